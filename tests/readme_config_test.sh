#!/usr/bin/env bash
# README.md documents what `seedhook --help` prints (issue 6, item 7), and nothing else:
#  - every command-line option of --help appears in the README;
#  - every configuration key has one row in the README's configuration table, whose
#    environment cell names each variable --help gives for it (…_FILE included) and whose
#    default cell is --help's default in backticks (or starts with "—" when it prints none);
#  - every row of that table is a key --help knows;
#  - every upper-case variable --help mentions (EVOLINK_API_KEY, …) appears in the README;
#  - every SEEDHOOK_* variable the README names is one --help knows, or a CMake option listed
#    below as not configuration.
# Usage: tests/readme_config_test.sh SEEDHOOK_BINARY README.md   (ctest runs it, label unit)
set -euo pipefail

binary=$1
readme=$2

# SEEDHOOK_* names the README may use that are not configuration: the CMake options.
non_config=(SEEDHOOK_TESTS SEEDHOOK_WERROR SEEDHOOK_SANITIZE SEEDHOOK_TSAN)

help=$("$binary" --help)
text=$(<"$readme")
errors=()
err() { errors+=("$1"); }

# --help, one record a line: "opt<TAB>--x", "key<TAB>k<TAB>variables<TAB>has_default<TAB>default"
# (a key line is "  key  SEEDHOOK_X[ (or SEEDHOOK_X_FILE)][, default V]", then a description
# that may name another variable: "(also EVOLINK_API_KEY)"), "var<TAB>NAME".
records=$(awk '
  { rest = $0
    while (match(rest, /[A-Z][A-Z0-9]*(_[A-Z0-9]+)+/)) {
      print "var\t" substr(rest, RSTART, RLENGTH); rest = substr(rest, RSTART + RLENGTH) } }
  /^Options:/ { opts = 1; next }
  opts && /^$/ { opts = 0 }
  opts && $1 ~ /^-/ { print "opt\t" $1 }
  /^  [a-z_.]+ +SEEDHOOK_/ {
    if (key != "") print "key\t" key "\t" vars "\t" has "\t" def
    key = $1; vars = $2; has = 0; def = ""
    if ($3 == "(or") { v = $4; sub(/\),?$/, "", v); vars = vars " " v }
    sub(/,$/, "", vars)
    if (match($0, /, default /)) { has = 1; def = substr($0, RSTART + RLENGTH) }
    next
  }
  key != "" && /^      / {
    if (match($0, /\(also [A-Z][A-Z0-9_]+\)/)) vars = vars " " substr($0, RSTART + 6, RLENGTH - 7)
    print "key\t" key "\t" vars "\t" has "\t" def; key = ""
  }
  END { if (key != "") print "key\t" key "\t" vars "\t" has "\t" def }' <<<"$help")

# The README's configuration table (the first table under "## Configuration" whose header
# starts with "| key |"), one "key<TAB>environment cell<TAB>default cell" a row; cells are
# split on " | ", so a cell may hold "|" inside code.
rows=$(awk '
  /^## / { section = ($0 ~ /^## Configuration/) }
  section && /^\| key \|/ { table = 1; next }
  table && !/^\|/ { exit }
  table && !/^\|[-| ]+\|$/ {
    line = $0; sub(/^\| */, "", line); sub(/ *\|$/, "", line)
    n = split(line, cell, / \| /)
    for (i = 1; i <= n; i++) gsub(/^ +| +$/, "", cell[i])
    key = cell[1]; gsub(/`/, "", key)
    print key "\t" cell[2] "\t" cell[3]
  }' "$readme")
[[ -n $rows ]] || err "README.md: no table with a '| key |' header under '## Configuration'"

declare -A env_cell=() default_cell=() row_count=() help_keys=() help_vars=()
while IFS=$'\t' read -r key envs default; do
  [[ -n $key ]] || continue
  row_count[$key]=$((${row_count[$key]:-0} + 1))
  env_cell[$key]=$envs
  default_cell[$key]=$default
done <<<"$rows"

noptions=0
nkeys=0
while IFS=$'\t' read -r kind a b c d; do
  case "$kind" in
  opt)
    noptions=$((noptions + 1))
    [[ $text =~ (^|[^a-z-])$a([^a-z-]|$) ]] || err "option $a (--help) is not in README.md"
    ;;
  var)
    help_vars[$a]=1
    ;;
  key)
    nkeys=$((nkeys + 1))
    help_keys[$a]=1
    if [[ -z ${row_count[$a]:-} ]]; then
      err "key $a (--help) has no row in README.md's configuration table"
      continue
    fi
    ((${row_count[$a]} == 1)) || err "key $a has ${row_count[$a]} rows in README.md's configuration table"
    for e in $b; do
      [[ ${env_cell[$a]} == *"\`$e\`"* ]] ||
        err "key $a: README's environment cell lacks \`$e\` (has: ${env_cell[$a]})"
    done
    if [[ $c == 1 ]]; then
      [[ ${default_cell[$a]} == "\`$d\`" ]] ||
        err "key $a: README's default is '${default_cell[$a]}', --help says \`$d\`"
    else
      [[ ${default_cell[$a]} == —* ]] ||
        err "key $a: README's default is '${default_cell[$a]}', --help prints none (write —)"
    fi
    ;;
  esac
done <<<"$records"
((noptions > 0)) || err "--help: no options found under 'Options:'"
((nkeys > 0)) || err "--help: no configuration keys found"

for key in "${!row_count[@]}"; do
  [[ -n ${help_keys[$key]:-} ]] ||
    err "README.md's configuration table has a row for '$key', which --help does not know"
done

# Variables --help mentions (SEEDHOOK_*, and the provider keys' other names) all in README.
for v in "${!help_vars[@]}"; do
  [[ $text =~ (^|[^A-Z0-9_])$v([^A-Z0-9_]|$) ]] || err "variable $v (--help) is not in README.md"
done

# SEEDHOOK_* variables in the README: known to --help, or listed above. A bare "SEEDHOOK_"
# is the prefix the README explains.
rest=$text
while [[ $rest =~ SEEDHOOK_[A-Z0-9_]* ]]; do
  v=${BASH_REMATCH[0]}
  rest=${rest#*"$v"}
  [[ $v == SEEDHOOK_ || -n ${help_vars[$v]:-} || " ${non_config[*]} " == *" $v "* ]] && continue
  err "README.md names $v, which seedhook --help does not know (a typo, or a removed key?)"
  help_vars[$v]=1  # once is enough
done

if ((${#errors[@]})); then
  printf 'FAIL: %s\n' "${errors[@]}"
  printf '%d problem(s); README.md must match `seedhook --help`\n' "${#errors[@]}"
  exit 1
fi
echo "PASS: README.md documents $noptions options, $nkeys keys and ${#help_vars[@]} variables of seedhook --help"
