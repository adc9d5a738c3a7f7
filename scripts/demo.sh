#!/usr/bin/env bash
# ferry's demo: sync a small notes vault with an empty folder, edit both sides
# (including the same note, differently, on both), preview the next sync with
# --dry-run, sync again, and show both sides.
#
#   scripts/demo.sh [path/to/ferry]      (make demo builds ferry first)
#
# Everything happens in a new temporary folder, which is removed at the end
# (set KEEP=1 to keep it). ferry's workdir, rclone config and caches are all
# inside it: nothing outside is read or written.
set -euo pipefail

bin=${1:-bin/ferry}
if [ ! -x "$bin" ]; then
	echo "demo: $bin not found; run 'make demo' or 'make build' first" >&2
	exit 1
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

demo=$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then
	trap 'echo; echo "demo: kept $demo"' EXIT
else
	trap 'rm -rf "$demo"' EXIT
fi
vault=$demo/vault   # path1: the notes on this computer
mirror=$demo/mirror # path2: stands in for a remote (any rclone remote works)
work=$demo/work     # ferry's state for this demo
mkdir -p "$vault" "$mirror" "$demo/home"
: >"$demo/rclone.conf"

# ferry runs with a HOME, XDG folders and rclone config inside the demo folder.
ferry() {
	HOME=$demo/home XDG_CONFIG_HOME=$demo/home/.config XDG_CACHE_HOME=$demo/home/.cache \
		XDG_STATE_HOME=$demo/home/.local/state RCLONE_CONFIG=$demo/rclone.conf \
		"$bin" "$@"
}

if [ -t 1 ]; then
	step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	step() { printf '\n== %s\n' "$*"; }
fi

show() { # show DIR: every file (not ferry's .ferry/ folder) with its content
	local dir=$1
	echo "$(basename "$dir")/"
	(cd "$dir" && find . -name .ferry -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort) |
		while IFS= read -r f; do
			case $f in
			*.png) printf '  %-58s (image, %s bytes)\n' "$f" "$(wc -c <"$dir/$f" | tr -d ' ')" ;;
			*) printf '  %-58s %s\n' "$f" "$(awk 'NR > 1 { printf " / " } { printf "%s", $0 }' "$dir/$f")" ;;
			esac
		done
}

note() { # note FILE TEXT...: write a note, making its folder
	local f=$1
	shift
	mkdir -p "$(dirname "$f")"
	printf '%s\n' "$@" >"$f"
}

step "A sample vault (path1) and an empty folder (path2) in $demo"
note "$vault/README.md" "# My vault" "Notes synced with ferry."
note "$vault/notes/todo.md" "- buy milk" "- water the plants"
note "$vault/notes/ideas.md" "Ideas: a sync tool that never loses a note."
note "$vault/notes/recipes/pancakes.md" "Pancakes: flour, milk, eggs."
note "$vault/journal/2024-05-01.md" "Started the vault."
mkdir -p "$vault/attachments"
printf '\211PNG\r\n\032\n\000\000\000\rIHDR\000\000\000\001\000\000\000\001' >"$vault/attachments/pixel.png"
show "$vault"
show "$mirror"

step "First sync: ferry sync vault mirror (the union of both sides)"
ferry sync "$vault" "$mirror" --workdir "$work"
show "$mirror"

step "Edits on both sides"
echo "vault:  edit notes/todo.md, new notes/books.md"
echo "mirror: edit notes/ideas.md, new journal/2024-05-02.md, delete journal/2024-05-01.md"
echo "both:   notes/recipes/pancakes.md edited differently (a conflict)"
note "$vault/notes/todo.md" "- buy milk" "- water the plants" "- call the plumber"
note "$vault/notes/books.md" "To read: The Pragmatic Programmer"
note "$mirror/notes/ideas.md" "Ideas: a sync tool that never loses a note." "And a demo for it."
note "$mirror/journal/2024-05-02.md" "Second day."
rm "$mirror/journal/2024-05-01.md"
note "$vault/notes/recipes/pancakes.md" "Pancakes: flour, milk, eggs, a pinch of salt."
note "$mirror/notes/recipes/pancakes.md" "Pancakes: flour, oat milk, eggs, vanilla."

step "Preview: ferry sync --dry-run (decision numbers in brackets; nothing changes)"
ferry sync "$vault" "$mirror" --workdir "$work" --dry-run

step "Second sync"
ferry sync "$vault" "$mirror" --workdir "$work"

step "Both sides now"
show "$vault"
show "$mirror"

step "The conflict: both versions of pancakes.md are kept, on both sides"
(cd "$vault" && find . -name .ferry -prune -o -type f -path '*pancakes*' -print | LC_ALL=C sort) |
	while IFS= read -r f; do
		printf '  %-58s %s\n' "${f#./}" "$(cat "$vault/$f")"
	done

step "A third sync has nothing left to do"
ferry sync "$vault" "$mirror" --workdir "$work" --dry-run
