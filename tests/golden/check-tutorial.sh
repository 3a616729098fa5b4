#!/bin/sh
# Every code block of the tutorial is a file of examples/tutorial, byte for
# byte, and every file there is shown: CI builds and runs those files, so the
# tutorial cannot drift from code that works. The paragraph before a block
# names its file with a link, [...](../examples/tutorial/NAME) (the last
# such link in that paragraph).
# Usage: check-tutorial.sh <docs/tutorial.md> <examples/tutorial>
set -eu
md=$1
dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -v out="$tmp" '
	/^```/ {
		if (!inblock) {
			inblock = 1; n++
			name = ""
			p = para != "" ? para : prev
			while (match(p, /\]\(\.\.\/examples\/tutorial\/[^)]+\)/)) {
				name = substr(p, RSTART + 23, RLENGTH - 24)
				p = substr(p, RSTART + RLENGTH)
			}
			if (name == "") {
				printf "block at line %d: the paragraph before it links to no file\n", NR
				bad = 1; name = "unnamed-" n
			}
			if (name in seen) {
				printf "block at line %d: %s is shown twice\n", NR, name
				bad = 1
			}
			seen[name] = 1
			file = out "/" name
			printf "" > file
			print name > (out "/.names")
		} else {
			inblock = 0
			close(file)
			para = prev = ""
		}
		next
	}
	inblock { print > file; next }
	NF { para = para " " $0; next }
	{ if (para != "") prev = para; para = "" }
	END { exit bad }
' "$md"
fail=0
for f in "$dir"/*; do
	name=$(basename "$f")
	if [ ! -e "$tmp/$name" ]; then
		echo "$name is in $dir but not in the tutorial"
		fail=1
	elif ! cmp -s "$f" "$tmp/$name"; then
		echo "the tutorial's $name differs from $f:"
		diff -u "$f" "$tmp/$name" || true
		fail=1
	fi
done
while read -r name; do
	[ -e "$dir/$name" ] || { echo "the tutorial shows $name, which is not in $dir"; fail=1; }
done <"$tmp/.names"
[ "$fail" -eq 0 ] && echo "$(wc -l <"$tmp/.names") code blocks, each the file it names"
exit $fail
