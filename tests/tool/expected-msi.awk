# The MSI/MSI-X lines that EXPECTED.md records for one dump (FILE=<name>),
# prefixed with the device address of the "### bb:dd.f" heading, blanks removed.
/^## / { infile = ($2 == FILE); next }
!infile { next }
/^### / { slot = $2; sub(/^0000:/, "", slot); next }
/^```/ { inblock = !inblock; next }
inblock && /^[ \t]*[^ \t(]/ { sub(/^[ \t]+/, ""); print slot " " $0 }
