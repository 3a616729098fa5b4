# Keep the MSI and MSI-X lines of `lspci -vvv` (or `pcicap-tool -v`) output,
# each prefixed with its device's address, leading blanks removed.
/^[^ \t]/ { slot = $1; sub(/^0000:/, "", slot); keep = 0; next }
/^\tCapabilities: \[[0-9a-f]+\] MSI(-X)?:/ { keep = 1; sub(/^[ \t]+/, ""); print slot " " $0; next }
/^\t\t/ { if (keep) { sub(/^[ \t]+/, ""); print slot " " $0 }; next }
{ keep = 0 }
