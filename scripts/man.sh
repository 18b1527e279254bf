#!/usr/bin/env bash
# Writes the man page stackbench(1) in roff to stdout, made from the binary's own help texts, so
# that the two cannot disagree: `BINARY --help` gives NAME, SYNOPSIS and DESCRIPTION, and every
# command listed in its `commands:` section gets a section of COMMANDS from `BINARY CMD --help`.
# Usage: man.sh BINARY > stackbench.1
#
# What a help text looks like (src/main.c and each command's *cli.c): a `usage:` line (more
# usage lines indented under it), a blank line, description paragraphs, then blocks separated by
# blank lines. A block whose first line is `NAME:` (`flags:`, `workloads:`, `COMMAND gets:`)
# and whose other lines are indented is a two-column list: an entry starts with two or more
# spaces, its description starts at a fixed column, continuation lines are indented to it. A block of indented lines starting
# with `-` and no header is a list of flags too. `example: ...` is an example; a line starting
# with `Exit status` also goes to EXIT STATUS; any other block is a paragraph, and its indented
# lines are shown as written.
set -euo pipefail
bin=${1:?usage: man.sh BINARY}

top=$("$bin" --help)
version=$("$bin" --version | awk 'NR == 1 { print $2 }')
commands=$(printf '%s\n' "$top" |
    awk '/^commands:$/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
[ -n "$commands" ] || { echo "man.sh: no commands: section in $bin --help" >&2; exit 1; }
date=${SOURCE_DATE_EPOCH:+$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)}
date=${date:-$(git -C "$(dirname "$0")/.." log -1 --format=%cs 2>/dev/null || true)}

# The roff formatter: reads one help text; MODE is "name" (NAME's line), "synopsis" (the usage
# lines), "top" (the top-level description), "command" (a section of COMMANDS) or "status"
# (its `Exit status` line as an entry of EXIT STATUS).
roff() {
    awk -v mode="$1" -v cmd="${2:-}" '
    # Escapes text for roff: backslashes, and the hyphens of anything that looks like a flag
    # (-x, --long-name, a lone --) as \- so that they print, and paste, as ASCII minus signs.
    function esc(s,    out, c, pre) {
        gsub(/\\/, "\\e", s)
        out = ""
        while (match(s, /(^|[^A-Za-z0-9_.-])--?([A-Za-z0-9][A-Za-z0-9_-]*)?/)) {
            pre = substr(s, 1, RSTART - 1)
            c = substr(s, RSTART, RLENGTH)
            s = substr(s, RSTART + RLENGTH)
            if (c ~ /^[^-]/) { pre = pre substr(c, 1, 1); c = substr(c, 2) }
            gsub(/-/, "\\-", c)
            out = out pre c
        }
        return out s
    }
    # A text line may not start with . or apostrophe (roff would read a request).
    function line(s) {
        if (s ~ /^[.\047]/) s = "\\&" s
        print s
    }
    # Words of a usage line or a flag: the program and the command in bold, flags in bold,
    # metavariables (FILE, N, ARGS...) and "flags" in italics, everything else as written.
    function words(s, bold,    out, w, n, i) {
        s = esc(s)
        out = ""; n = 0
        while (match(s, /[A-Za-z0-9_.\\-]+/)) {
            out = out substr(s, 1, RSTART - 1)
            w = substr(s, RSTART, RLENGTH)
            s = substr(s, RSTART + RLENGTH)
            n++
            if (w ~ /^\\-/ || (n <= bold && w ~ /^[a-z]/))
                out = out "\\fB" w "\\fR"
            else if (w ~ /^[A-Z][A-Z0-9_]*(\.\.\.)?$/ || w == "flags")
                out = out "\\fI" w "\\fR"
            else
                out = out w
        }
        return out s
    }
    function indent(s) { match(s, /^ */); return RLENGTH }

    # A two-column list (lines b[from..to]): .TP entries, the term formatted by words() when
    # it is a flag (kind "flags"), a command and its arguments (kind "usage") or in bold.
    function entries(from, to, kind,    i, col, t, d, p) {
        col = 0
        for (i = from; i <= to; i++)
            if (indent(b[i]) < 8 && match(b[i], /^ +[^ ]+( [^ ]+)*  +/)) { col = RLENGTH; break }
        for (i = from; i <= to; i++) {
            if (col && indent(b[i]) >= col) { line(esc(substr(b[i], col + 1))); continue }
            t = b[i]; sub(/^ +/, "", t); d = ""
            if (p = index(t, "  ")) { d = substr(t, p); t = substr(t, 1, p - 1); sub(/^ +/, "", d) }
            print ".TP"
            if (kind == "flags") line(words(t, 0))
            else if (kind == "usage") line(words(t, 1))
            else line("\\fB" esc(t) "\\fR")
            if (d != "") line(esc(d))
        }
    }
    # A paragraph block: text at column 0 is filled, indented lines are shown as written.
    function paragraph(from, to,    i, lit, t) {
        print ".PP"; lit = 0
        for (i = from; i <= to; i++) {
            if (b[i] ~ /^ /) {
                if (!lit) { print ".RS 4"; print ".nf"; lit = 1 }
                t = b[i]; sub(/^  /, "", t); line(esc(t))
            } else {
                if (lit) { print ".fi"; print ".RE"; lit = 0 }
                line(esc(b[i]))
            }
        }
        if (lit) { print ".fi"; print ".RE" }
    }
    function block(from, to,    h, i, flags, list) {
        list = from < to
        for (i = from + 1; i <= to; i++) if (b[i] !~ /^ /) list = 0
        if (list && b[from] ~ /^[A-Za-z][^:]*:$/) {
            h = b[from]
            flags = h == "flags:"
            print ".PP"
            line(esc(toupper(substr(h, 1, 1)) substr(h, 2, length(h) - 2)) ":")
            entries(from + 1, to, flags ? "flags" : mode == "top" ? "usage" : "bold")
            return
        }
        flags = 1
        for (i = from; i <= to; i++) if (b[i] !~ /^ /) flags = 0
        if (flags && b[from] ~ /^ +-/) {
            print ".PP"; line("Flags:"); entries(from, to, "flags"); return
        }
        if (flags && mode == "top") { print ".PP"; entries(from, to, "usage"); return }
        if (from == to && sub(/^example: */, "", b[from])) {
            print ".PP"; line("Example:")
            print ".RS 4"; print ".nf"; line(esc(b[from])); print ".fi"; print ".RE"
            return
        }
        paragraph(from, to)
    }

    { lines[NR] = $0 }
    END {
        if (mode == "status") {
            for (i = 1; i <= NR; i++)
                if (sub(/^Exit status:? */, "", lines[i])) {
                    print ".TP"; line("\\fB" cmd "\\fR"); line(esc(lines[i]))
                }
            exit
        }
        if (mode == "name") {
            s = lines[1]; sub(/^[^:]*: */, "", s)
            line("stackbench \\- " esc(s)); exit
        }
        # The usage lines: "usage: X" and the indented lines under it.
        u = 0
        for (i = 1; i <= NR; i++) if (lines[i] ~ /^usage: /) { u = i; break }
        if (!u) {
            print "man.sh: no usage: line in the help of stackbench " cmd > "/dev/stderr"
            exit 1
        }
        e = u
        while (e < NR && lines[e + 1] ~ /^ +[^ ]/) e++
        if (mode == "synopsis") {
            for (i = u; i <= e; i++) {
                s = lines[i]; sub(/^(usage:)? +/, "", s)
                print ".br"; line(words(s, 2))
            }
            exit
        }
        if (mode == "command") {
            print ".SS " cmd
            for (i = u; i <= e; i++) {
                s = lines[i]; sub(/^(usage:)? +/, "", s)
                print (i == u ? ".PP" : ".br"); line(words(s, 2))
            }
        }
        # The blocks after the usage (and, at the top, after the first line).
        start = mode == "top" ? 2 : e + 1
        n = 0
        for (i = start; i <= NR + 1; i++) {
            if (i > NR || lines[i] ~ /^ *$/) {
                if (n) block(1, n)
                n = 0; delete b; continue
            }
            if (mode == "top" && i >= u && i <= e) continue
            # "reference: docs/CMD.md, man stackbench" points here: SEE ALSO lists every page.
            if (mode == "command" && lines[i] ~ /^reference: /) continue
            b[++n] = lines[i]
        }
    }'
}

echo '.\" -*- coding: UTF-8 -*-'
echo '.\" Generated by scripts/man.sh from the help texts of stackbench: do not edit.'
echo ".TH STACKBENCH 1 \"$date\" \"stackbench $version\" \"stackbench manual\""
# No hyphenation: URLs, paths and flags are copied from a man page as they are printed.
echo '.nh'
echo '.SH NAME'
printf '%s\n' "$top" | roff name
echo '.SH SYNOPSIS'
echo '.ad l'
printf '%s\n' "$top" | roff synopsis
for c in $commands; do "$bin" "$c" --help | roff synopsis; done
echo '.ad'
echo '.SH DESCRIPTION'
echo 'One program, one command per job; each command is described in full under \fBCOMMANDS\fR.'
printf '%s\n' "$top" | roff top
echo '.SH COMMANDS'
for c in $commands; do "$bin" "$c" --help | roff command "$c"; done
cat <<'EOF'
.SH EXIT STATUS
0 on success, 1 when the command failed, 2 when its command line is wrong (an unknown command
or flag, or a value out of range).
EOF
for c in $commands; do "$bin" "$c" --help | roff status "$c"; done
cat <<'EOF'
.SH FILES
.TP
.I results/results.json\fR, \fIresults/results.md
What \fBstackbench run\fR writes: the machine, the compilers, the flags and every cell's
figures, and the table in Markdown (\fB\-\-out\fR \fIDIR\fR puts them elsewhere).
.TP
.I ~/.cache/stackbench/dev/LANG\-HASH.json
The development figures \fBstackbench run\fR measured (builds, binary sizes, dependencies),
kept per language and hash of its sources (\fB$XDG_CACHE_HOME\fR/stackbench/dev when set;
\fB\-\-dev\-metrics\fR measures again).
.TP
.I contracts/WORKLOAD/*.case
Each workload's contract cases, compiled into the binary (\fBstackbench verify \-\-cases\fR
\fIDIR\fR reads others).
.TP
.I peers/go, peers/rust
The Go and Rust services, found beside the binary (\fB\-\-peers\fR \fIDIR\fR).
.TP
.I /tmp/sb\-pg\-XXXXXX/
A throwaway PostgreSQL cluster of \fBrun\fR, \fBdurability\fR or \fBpg\fR, removed when it
stops.
.SH SEE ALSO
In the source repository:
.I README.md
(what stackbench is for, and the latest results),
EOF
last=${commands##*$'\n'}
for c in $commands; do
    if [ "$c" = "$last" ]; then printf '.IR docs/%s.md " (one page per command),"\n' "$c"
    else printf '.IR docs/%s.md ,\n' "$c"; fi
done
cat <<'EOF'
.I docs/POSTGRES.md
(the throwaway PostgreSQL and its settings),
.I docs/tests.md
and
.IR docs/performance.md .
.PP
.BR wrk (1),
.BR h2load (1),
.BR pgbench (1)
EOF
