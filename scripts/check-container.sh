#!/usr/bin/env bash
# Checks the container image as far as possible without a Docker engine (issue 6).
# Not part of CI: it needs root (re-runs itself through sudo), the Debian mirror apt uses, and
# a minute or two the first time (25 s once .container-check/ holds the cached root).
#
#  1. Static: every COPY source exists and is in the build context (.dockerignore), no tracked
#     file is left out of the context and nothing git ignores is sent; the runtime stage's CMD
#     config comes from the repository and `seedhook --check-config` accepts it with the
#     environment of each `docker run` in the README; every variable those pass is one
#     `seedhook --help` knows; HEALTHCHECK calls a route on the EXPOSEd port, which is the
#     configured port; the database lives on the VOLUME; the TLS files are on a README mount;
#     USER is not root.
#  2. Real: a Debian 12 root made with `debootstrap --variant=minbase bookworm` (cached in
#     .container-check/, which git and docker ignore) is copied, and the runtime stage is
#     replayed in it: its RUN lines in a chroot (so scripts/install-deps.sh --runtime runs
#     there), COPY, ENV, WORKDIR, USER. Then, as that user: no library is missing (ldd),
#     --version runs, and for each README `docker run` --check-config passes and the server
#     starts (in a private network namespace, secrets and TLS files where the mounts put them),
#     answers the HEALTHCHECK command, and exits 0 on the STOPSIGNAL.
#  3. With --build-stage the build stage is replayed first in a root of its own (the full
#     package list, Release build, every test, strip) and the runtime stage takes its binary;
#     otherwise it takes the host's binary (stripped). Expect 35 minutes on 2 cores the first
#     time, 13 once the compiler cache (.container-check/ccache) is warm.
#
# Usage: scripts/check-container.sh [--build-stage] [--binary PATH] [--clean]
#   --binary PATH  the seedhook binary to check (default build/seedhook, else build-ct/seedhook,
#                  built with scripts/build.sh build-ct when neither exists)
#   --clean        delete .container-check/ (the cached root) and exit
# Prints one PASS/FAIL line per check and exits non-zero if any check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)
work=$repo/.container-check

build_stage=0
binary=""
for ((i = 1; i <= $#; i++)); do
  case "${!i}" in
  --build-stage) build_stage=1 ;;
  --binary) i=$((i + 1)) && binary=$(realpath "${!i}") ;;
  --clean)
    if grep -q " $work" /proc/mounts; then
      echo "something is still mounted under $work; not deleting" >&2
      exit 1
    fi
    rm -rf --one-file-system "$work"
    exit 0
    ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
  *) echo "unknown option ${!i} (see --help)" >&2 && exit 2 ;;
  esac
done

if [[ -z $binary ]]; then
  for candidate in build/seedhook build-ct/seedhook; do
    if [[ -x $candidate ]]; then
      binary=$repo/$candidate
      break
    fi
  done
fi
if [[ -z $binary ]]; then
  echo "== no binary: building build-ct/seedhook" >&2
  scripts/install-deps.sh
  scripts/build.sh build-ct -DSEEDHOOK_TESTS=OFF
  binary=$repo/build-ct/seedhook
fi
if [[ $(id -u) -ne 0 ]]; then
  sudo_args=(--binary "$binary")
  ((build_stage)) && sudo_args+=(--build-stage)
  exec sudo "$0" "${sudo_args[@]}"
fi

started=$SECONDS
failures=0
declare -a summary=()

pass() {
  printf 'PASS  %s\n' "$1"
  summary+=("PASS  $1")
}

fail() {
  printf 'FAIL  %s\n' "$1"
  summary+=("FAIL  $1")
  failures=$((failures + 1))
  if [[ $# -gt 1 && -n $2 ]]; then
    printf '%s\n' "$2" | sed 's/^/      /'
  fi
}

check() {  # check NAME COMMAND...: PASS if the command succeeds, FAIL with its output otherwise
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    pass "$name"
  else
    fail "$name" "$out"
  fi
}

phase() { printf '\n== %s (%ss so far)\n' "$1" "$((SECONDS - started))"; }

# Host tools this script uses, installed from Debian when missing.
need=()
for tool in debootstrap:debootstrap jq:jq ip:iproute2 openssl:openssl strip:binutils unshare:util-linux; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if ((${#need[@]})); then
  echo "installing on the host: ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ---------------------------------------------------------------------------------------------
# The Dockerfile, as a list of instructions per stage.

declare -a ins_stage=() ins_kw=() ins_args=() stage_name=() stage_from=()
parse_dockerfile() {
  local line joined="" kw
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^[[:space:]]*# || ($line =~ ^[[:space:]]*$ && -z $joined) ]]; then
      continue
    fi
    if [[ $line =~ \\[[:space:]]*$ ]]; then
      joined+="${line%\\*} "
      continue
    fi
    joined+=$line
    joined=${joined#"${joined%%[![:space:]]*}"}
    kw=${joined%%[[:space:]]*}
    kw=${kw^^}
    local args=${joined#*[[:space:]]}
    args=${args#"${args%%[![:space:]]*}"}
    if [[ $kw == FROM ]]; then
      local from name
      read -r from _ name <<<"$args"
      stage_from+=("$from")
      stage_name+=("${name:-${#stage_name[@]}}")
    fi
    ins_stage+=($((${#stage_name[@]} - 1)))
    ins_kw+=("$kw")
    ins_args+=("$args")
    joined=""
  done <Dockerfile
}
parse_dockerfile
runtime_stage=$((${#stage_name[@]} - 1))

# Last value of an instruction in a stage (EXPOSE, USER, CMD, ...), or nothing.
stage_value() {
  local stage=$1 kw=$2 value="" i
  for i in "${!ins_kw[@]}"; do
    if [[ ${ins_stage[i]} == "$stage" && ${ins_kw[i]} == "$kw" ]]; then
      value=${ins_args[i]}
    fi
  done
  printf '%s' "$value"
}

# Words of a string the way a shell would split them (quotes honoured, nothing expanded).
split_words() { printf '%s' "$1" | xargs -r printf '%s\n'; }

# COPY arguments: flags (--from=, --chown=) apart from the sources and the destination.
declare copy_from copy_dest
declare -a copy_srcs
parse_copy() {
  local -a words
  mapfile -t words < <(split_words "$1")
  copy_from=""
  copy_srcs=()
  for w in "${words[@]}"; do
    case "$w" in
    --from=*) copy_from=${w#--from=} ;;
    --*) ;;
    *) copy_srcs+=("$w") ;;
    esac
  done
  copy_dest=${copy_srcs[-1]}
  unset 'copy_srcs[-1]'
}

# ---------------------------------------------------------------------------------------------
# .dockerignore: Docker's rules (Go filepath.Match per path component, `**` any number of
# components, a path is out when it or a parent matches). `!` exceptions are not supported.

declare -a ignore_patterns=()
if [[ -f .dockerignore ]]; then
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%%[[:space:]]}
    [[ -z $line || $line == \#* ]] && continue
    if [[ $line == !* ]]; then
      echo "check-container.sh does not support '!' in .dockerignore ($line)" >&2
      exit 2
    fi
    line=${line#/}
    line=${line%/}
    ignore_patterns+=("$line")
  done <.dockerignore
fi

declare -a _pc=() _xc=()
_match_from() {
  local i=$1 j=$2 k
  while ((i < ${#_pc[@]})); do
    if [[ ${_pc[i]} == '**' ]]; then
      for ((k = j; k <= ${#_xc[@]}; k++)); do
        _match_from $((i + 1)) "$k" && return 0
      done
      return 1
    fi
    ((j < ${#_xc[@]})) || return 1
    # shellcheck disable=SC2053  # the pattern is meant to glob
    [[ ${_xc[j]} == ${_pc[i]} ]] || return 1
    i=$((i + 1))
    j=$((j + 1))
  done
  ((j == ${#_xc[@]}))
}

# True when this exact relative path matches a pattern (its parents are not looked at).
matches_ignore() {
  local pattern
  IFS=/ read -ra _xc <<<"$1"
  for pattern in "${ignore_patterns[@]}"; do
    IFS=/ read -ra _pc <<<"$pattern"
    _match_from 0 0 && return 0
  done
  return 1
}

# True when a relative path is left out of the context (it or a parent matches).
is_excluded() {
  local path=${1#./} prefix="" part
  path=${path%/}
  [[ -z $path || $path == . ]] && return 1
  local -a parts
  IFS=/ read -ra parts <<<"$path"
  for part in "${parts[@]}"; do
    prefix=${prefix:+$prefix/}$part
    matches_ignore "$prefix" && return 0
  done
  return 1
}

# Every file `docker build .` would send, one relative path a line.
list_context() {
  local dir=$1 entry rel
  for entry in "$repo/${dir:+$dir/}"* "$repo/${dir:+$dir/}".*; do
    [[ -e $entry || -L $entry ]] || continue
    rel=${entry#"$repo"/}
    [[ ${rel##*/} == . || ${rel##*/} == .. ]] && continue
    matches_ignore "$rel" && continue
    if [[ -d $entry && ! -L $entry ]]; then
      list_context "$rel"
    else
      printf '%s\n' "$rel"
    fi
  done
}

mkdir -p "$work"
printf '*\n' >"$work/.gitignore"
# One run at a time: two would copy and delete the same roots.
exec 9>"$work/.lock"
if ! flock -n 9; then
  echo "another check-container.sh is using $work" >&2
  exit 1
fi
context_list=$work/context.txt
list_context "" >"$context_list"

# ---------------------------------------------------------------------------------------------
# The README's `docker run -d` commands (section "Container", the ones that start the service):
# their -e, -v and -p options.

declare -a run_cmds=()
mapfile -t run_cmds < <(
  awk '/^## /{ in_section = ($0 ~ /^## Container/) }
     in_section && /^```/ { in_code = !in_code; next }
     in_section && in_code {
       if (cont || $0 ~ /^docker run -d /) {
         line = $0; cont = (line ~ /\\[ \t]*$/); sub(/\\[ \t]*$/, "", line)
         cmd = cmd line " "
         if (!cont) { print cmd; cmd = "" }
       }
     }' README.md
)

declare -a run_env=() run_volumes=() run_ports=()
parse_run() {  # fills run_env (NAME=VALUE), run_volumes (SRC:DST), run_ports (HOST:CONTAINER)
  local -a words
  mapfile -t words < <(split_words "$1")
  run_env=()
  run_volumes=()
  run_ports=()
  local i w next
  for ((i = 0; i < ${#words[@]}; i++)); do
    w=${words[i]}
    next=${words[i + 1]:-}
    case "$w" in
    -e | --env) run_env+=("$next") && i=$((i + 1)) ;;
    --env=*) run_env+=("${w#--env=}") ;;
    -v | --volume) run_volumes+=("$next") && i=$((i + 1)) ;;
    --volume=*) run_volumes+=("${w#--volume=}") ;;
    -p | --publish) run_ports+=("$next") && i=$((i + 1)) ;;
    --publish=*) run_ports+=("${w#--publish=}") ;;
    esac
  done
}

# The Dockerfile's ENV lines of a stage, as NAME=VALUE.
stage_env() {
  local stage=$1 i w
  for i in "${!ins_kw[@]}"; do
    [[ ${ins_stage[i]} == "$stage" && ${ins_kw[i]} == ENV ]] || continue
    if [[ ${ins_args[i]} == *=* ]]; then
      split_words "${ins_args[i]}"
    else
      read -r w rest <<<"${ins_args[i]}"
      printf '%s=%s\n' "$w" "$rest"
    fi
  done
}

# A value for one `-e` of the README: literal values as written; a pass-through (`-e NAME`)
# or a shell expansion gets a placeholder long enough to be a valid token.
env_value() {
  local item=$1
  if [[ $item != *=* ]]; then
    printf '%s=check-container-placeholder' "$item"
  elif [[ ${item#*=} == \$* || -z ${item#*=} ]]; then
    printf '%s=check-container-placeholder' "${item%%=*}"
  else
    printf '%s' "$item"
  fi
}

if ! help_text=$("$binary" --help 2>&1); then
  fail "$binary --help" "$help_text"
  exit 1
fi
known_vars=$(grep -oE '\b[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\b' <<<"$help_text" | sort -u)
help_default() {  # the default --help prints for a key
  awk -v k="$1" '$1 == k { for (i = 2; i <= NF; i++) if ($i == "default") print $(i + 1) }' <<<"$help_text"
}

# The effective value of a configuration key in the container: README -e, then Dockerfile
# ENV, then the config file, then the default.
effective() {
  local key=$1 envname config_file=$2 value="" item
  envname=SEEDHOOK_$(tr 'a-z.' 'A-Z_' <<<"$key")
  for item in "${cur_env[@]}"; do
    [[ ${item%%=*} == "$envname" ]] && value=${item#*=}
  done
  if [[ -z $value && -f $config_file ]]; then
    value=$(jq -r --arg k "$key" 'getpath($k | split(".")) // empty' "$config_file")
  fi
  [[ -z $value ]] && value=$(help_default "$key")
  printf '%s' "$value"
}

# ---------------------------------------------------------------------------------------------
phase "static checks of the Dockerfile ($binary, $(date -r "$binary" '+%F %T'))"

if [[ ${#stage_name[@]} -ge 2 ]]; then
  pass "Dockerfile: ${#stage_name[@]} stages (${stage_name[*]}), runtime stage '${stage_name[runtime_stage]}' on ${stage_from[runtime_stage]}"
else
  fail "Dockerfile: expected a build stage and a runtime stage, found ${#stage_name[@]}"
fi

bad=""
declare -A stage_index=()
for s in "${!stage_name[@]}"; do
  stage_index[${stage_name[s]}]=$s
done
for i in "${!ins_kw[@]}"; do
  [[ ${ins_kw[i]} == COPY || ${ins_kw[i]} == ADD ]] || continue
  parse_copy "${ins_args[i]}"
  if [[ -n $copy_from ]]; then
    [[ -n ${stage_index[$copy_from]:-} ]] || bad+="COPY --from=$copy_from: no such stage"$'\n'
    continue
  fi
  for src in "${copy_srcs[@]}"; do
    if [[ ! -e $src ]]; then
      bad+="COPY $src: not in the repository"$'\n'
    elif is_excluded "$src"; then
      bad+="COPY $src: excluded by .dockerignore"$'\n'
    elif [[ -d $src && $src != . ]] && ! grep -q "^${src%/}/" "$context_list"; then
      bad+="COPY $src: every file in it is excluded by .dockerignore"$'\n'
    fi
  done
done
if [[ -z $bad ]]; then
  pass "every COPY source exists and is in the build context"
else
  fail "COPY sources" "$bad"
fi

if git rev-parse --git-dir >/dev/null 2>&1; then
  left_out=$(git ls-files --cached | while IFS= read -r f; do
    [[ -e $f ]] && is_excluded "$f" && printf '%s\n' "$f"
  done || true)
  if [[ -z $left_out ]]; then
    pass "no tracked file is excluded from the build context"
  else
    fail "tracked files excluded by .dockerignore (the build stage's COPY . . misses them)" "$left_out"
  fi
  sent=$(git ls-files --others --ignored --exclude-standard --directory | while IFS= read -r f; do
    is_excluded "$f" || printf '%s\n' "$f"
  done || true)
  if [[ -z $sent ]]; then
    pass "nothing git ignores is sent to docker ($(wc -l <"$context_list") files, $(cd "$repo" && tr '\n' '\0' <"$context_list" | du -ch --files0-from=- | tail -1 | cut -f1) in the context)"
  else
    fail "paths git ignores but .dockerignore sends to docker" "$sent"
  fi
fi

runtime_copies=()  # "SRC DEST" of the runtime stage's context COPYs
for i in "${!ins_kw[@]}"; do
  [[ ${ins_stage[i]} == "$runtime_stage" && ${ins_kw[i]} == COPY ]] || continue
  parse_copy "${ins_args[i]}"
  [[ -z $copy_from ]] && runtime_copies+=("${copy_srcs[0]} $copy_dest")
done
entrypoint=$(stage_value "$runtime_stage" ENTRYPOINT)
cmd=$(stage_value "$runtime_stage" CMD)
declare -a argv=()
if jq -e 'type == "array"' <<<"${entrypoint:-[]}" >/dev/null 2>&1 && jq -e 'type == "array"' <<<"${cmd:-[]}" >/dev/null 2>&1; then
  mapfile -t argv < <(jq -r '.[]' <<<"${entrypoint:-[]}"; jq -r '.[]' <<<"${cmd:-[]}")
  pass "ENTRYPOINT and CMD are in exec form: ${argv[*]}"
else
  fail "ENTRYPOINT/CMD must be JSON arrays (exec form, so that the STOPSIGNAL reaches seedhook)"
fi
config_in_image=""
for ((i = 0; i < ${#argv[@]}; i++)); do
  [[ ${argv[i]} == --config ]] && config_in_image=${argv[i + 1]:-}
done
config_in_repo=""
for c in "${runtime_copies[@]}"; do
  src=${c%% *}
  dest=${c#* }
  if [[ $config_in_image == "$dest" ]]; then
    config_in_repo=$src
  elif [[ $config_in_image == "${dest%/}"/* && -d $src ]]; then
    config_in_repo=${src%/}/${config_in_image#"${dest%/}"/}
  fi
done
if [[ -n $config_in_repo && -f $config_in_repo ]]; then
  pass "CMD's $config_in_image is the repository's $config_in_repo"
else
  fail "CMD's --config ${config_in_image:-(none)} is not a file the runtime stage copies from the repository"
fi

if [[ ${#run_cmds[@]} -gt 0 ]]; then
  pass "README section Container has ${#run_cmds[@]} docker run command(s)"
else
  fail "README section Container has no docker run command"
fi

image_env=()
mapfile -t image_env < <(stage_env "$runtime_stage")
expose=$(stage_value "$runtime_stage" EXPOSE)
expose=${expose%%/*}
volumes=$(stage_value "$runtime_stage" VOLUME)
healthcheck=$(stage_value "$runtime_stage" HEALTHCHECK)
health_cmd=${healthcheck#*CMD }
if jq -e 'type == "array"' <<<"$health_cmd" >/dev/null 2>&1; then
  health_cmd=$(jq -r 'map(@sh) | join(" ")' <<<"$health_cmd")
fi
user=$(stage_value "$runtime_stage" USER)
stopsignal=$(stage_value "$runtime_stage" STOPSIGNAL)
stopsignal=${stopsignal:-SIGTERM}

for n in "${!run_cmds[@]}"; do
  label="docker run #$((n + 1))"
  parse_run "${run_cmds[n]}"
  cur_env=("${image_env[@]}")
  unknown=""
  for item in "${run_env[@]}"; do
    name=${item%%=*}
    grep -qx "$name" <<<"$known_vars" || unknown+="$name "
    cur_env+=("$(env_value "$item")")
  done
  if [[ -z $unknown ]]; then
    pass "$label: every variable it passes is one seedhook --help knows"
  else
    fail "$label: variables seedhook does not read: $unknown"
  fi

  # --check-config on the host: *_FILE variables point at placeholder files here.
  tmp=$(mktemp -d)
  host_env=()
  for item in "${cur_env[@]}"; do
    if [[ ${item%%=*} == *_FILE ]]; then
      printf 'check-container-placeholder\n' >"$tmp/${item%%=*}"
      item="${item%%=*}=$tmp/${item%%=*}"
    fi
    host_env+=("$item")
  done
  check "$label: seedhook --config $config_in_repo --check-config accepts its environment" \
    env -i "${host_env[@]}" "$binary" --config "$config_in_repo" --check-config
  rm -rf "$tmp"

  port=$(effective listen.port "$config_in_repo")
  db=$(effective database.path "$config_in_repo")
  health_url=$(grep -oE 'https?://[^ "]+' <<<"$health_cmd" | head -1 || true)
  health_port=$(sed -nE 's|^https?://[^/:]+:([0-9]+).*|\1|p' <<<"$health_url")
  health_path=$(sed -nE 's|^https?://[^/]+(/[^?]*).*|\1|p' <<<"$health_url")
  if [[ $port == "$expose" && $port == "$health_port" ]]; then
    pass "$label: seedhook listens on $port, the EXPOSEd port and the HEALTHCHECK's"
  else
    fail "$label: port mismatch: seedhook listens on $port, EXPOSE $expose, HEALTHCHECK ${health_port:-?}"
  fi
  published=""
  for p in "${run_ports[@]}"; do
    [[ ${p##*:} == "$port" ]] && published=$p
  done
  if [[ -n $published ]]; then
    pass "$label: publishes the container's port $port (-p $published)"
  else
    fail "$label: no -p publishes port $port"
  fi
  on_volume=""
  for v in $(tr -d '[]",' <<<"$volumes"); do
    [[ $db == "${v%/}"/* ]] && on_volume=$v
  done
  mounted=""
  for v in "${run_volumes[@]}"; do
    dst=${v#*:}
    dst=${dst%%:*}
    [[ -n $on_volume && $dst == "$on_volume" ]] && mounted=$v
  done
  if [[ -n $on_volume && -n $mounted ]]; then
    pass "$label: the database $db is on the VOLUME $on_volume, mounted with -v $mounted"
  else
    fail "$label: the database $db must be on a VOLUME (${volumes:-none}) that the command mounts"
  fi
  tls_missing=""
  for key in tls.cert_file tls.key_file; do
    f=$(effective "$key" "$config_in_repo")
    [[ -z $f ]] && continue
    covered=""
    for v in "${run_volumes[@]}"; do
      dst=${v#*:}
      dst=${dst%%:*}
      [[ $f == "${dst%/}"/* ]] && covered=$v
    done
    [[ -z $covered ]] && tls_missing+="$key=$f "
  done
  if [[ -z $tls_missing ]]; then
    pass "$label: a -v mount provides the TLS certificate and key"
  else
    fail "$label: no -v mount provides $tls_missing"
  fi
done

if [[ -n $health_path ]] && grep -rqE "router\.add\(\"GET\", \"$health_path\"" server/; then
  pass "HEALTHCHECK calls GET $health_path, a route of the server"
else
  fail "HEALTHCHECK calls ${health_url:-nothing}, not a GET route in server/"
fi
if [[ -n $user && $user != root && $user != 0 && $user != 0:* && $user != root:* ]]; then
  pass "USER $user is not root"
else
  fail "USER must name a non-root user (is '${user:-unset}')"
fi

# ---------------------------------------------------------------------------------------------
# The debootstrap root and the chroot machinery.

declare -a mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
  done
  mounts=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mount_in() {  # mount_in ROOT TYPE DIR: proc or tmpfs at ROOT/DIR until the script ends
  mkdir -p "$1/$3"
  mount -t "$2" "$2" "$1/$3"
  mounts+=("$1/$3")
}

bind_in() {  # bind_in ROOT HOST_DIR DIR: HOST_DIR at ROOT/DIR until the script ends
  mkdir -p "$1/$3"
  mount --bind "$2" "$1/$3"
  mounts+=("$1/$3")
}

unmount_root() {
  local root=$1 i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    if [[ ${mounts[i]} == "$root"/* ]]; then
      umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}"
      unset 'mounts[i]'
    fi
  done
  mounts=("${mounts[@]}")
}

remove_root() {  # never while anything is mounted inside it
  if grep -q " $1/" /proc/mounts; then
    echo "refusing to delete $1: something is mounted in it" >&2
    exit 1
  fi
  rm -rf --one-file-system "$1"
}

# The mirror apt uses on this machine for a Debian suite (deb822 .sources or one-line .list).
debian_mirror() {
  local suite=$1 f
  {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -r $f ]] || continue
      awk -v s="$suite" '$1 == "deb" {
        i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == s) print $i }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -r $f ]] || continue
      awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
        { uris = suites = types = ""; enabled = "yes"
          for (k = 1; k <= NF; k++) {
            if ($k ~ /^URIs:/) { uris = $k; sub(/^URIs:[ \t]*/, "", uris) }
            if ($k ~ /^Suites:/) { suites = $k; sub(/^Suites:[ \t]*/, "", suites) }
            if ($k ~ /^Types:/) { types = $k; sub(/^Types:[ \t]*/, "", types) }
            if ($k ~ /^Enabled:/) { enabled = $k; sub(/^Enabled:[ \t]*/, "", enabled) } }
          n = split(suites, a, " ")
          for (j = 1; j <= n; j++)
            if (a[j] == s && types ~ /(^| )deb( |$)/ && enabled != "no") { split(uris, u, " "); print u[1] } }' "$f"
    done
  } | sed -n 1p
}

base=$work/bookworm-minbase
ensure_base() {
  if [[ -f $base/.complete ]]; then
    pass "Debian 12 minbase root cached in ${base#"$repo"/}"
    return
  fi
  local mirror security t0=$SECONDS
  mirror=$(debian_mirror bookworm)
  mirror=${mirror:-http://deb.debian.org/debian}
  security=$(debian_mirror bookworm-security)
  security=${security:-http://deb.debian.org/debian-security}
  echo "debootstrap --variant=minbase bookworm from $mirror (security: $security)"
  remove_root "$base.tmp"
  if ! debootstrap --variant=minbase bookworm "$base.tmp" "$mirror" >"$work/debootstrap.log" 2>&1; then
    fail "debootstrap --variant=minbase bookworm $mirror" "$(tail -20 "$work/debootstrap.log")"
    exit 1
  fi
  # The apt sources of the debian:12 images: the release, its updates, the security archive.
  rm -f "$base.tmp/etc/apt/sources.list"
  cat >"$base.tmp/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # As in the debian images: apt keeps no package caches in the image.
  printf '%s\n' 'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' \
    >"$base.tmp/etc/apt/apt.conf.d/docker-clean"
  rm -rf "$base.tmp/var/lib/apt/lists/"* "$base.tmp/var/cache/apt/"*.bin "$base.tmp/var/cache/apt/archives/"*.deb
  touch "$base.tmp/.complete"
  mv "$base.tmp" "$base"
  pass "debootstrap --variant=minbase bookworm $mirror ($((SECONDS - t0)) s)"
}

# A fresh copy of the base root for one stage, with /proc, /dev/shm, DNS and the shared
# package cache (so a second run downloads nothing); with "ccache", a compiler cache too (it
# keeps a second --build-stage run short; the image never sees it).
new_root() {
  local root=$1
  remove_root "$root"
  cp -a "$base" "$root"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount_in "$root" proc proc
  mount_in "$root" tmpfs dev/shm
  mkdir -p "$work/apt-archives/partial"
  bind_in "$root" "$work/apt-archives" var/cache/apt/archives
  if [[ ${2:-} == ccache ]]; then
    mkdir -p "$work/ccache"
    bind_in "$root" "$work/ccache" root/.cache/ccache
  fi
  # The debian images keep no .debs; this cache is for the check only, so let apt keep them.
  echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >"$root/etc/apt/apt.conf.d/01keep-debs"
}

uid_of() {  # uid:gid of a USER value inside a root
  local root=$1 who=$2 u g
  [[ -z $who ]] && who=root
  u=$(chroot "$root" id -u "${who%%:*}")
  g=$(chroot "$root" id -g "${who%%:*}")
  printf '%s:%s' "$u" "$g"
}

in_root() {  # in_root ROOT USER WORKDIR ENV_ARRAY_NAME COMMAND...: run like a RUN line
  local root=$1 who=$2 dir=$3
  local -n env_ref=$4
  shift 4
  local ids home
  ids=$(uid_of "$root" "$who")
  home=$(chroot "$root" getent passwd "${ids%%:*}" | cut -d: -f6 || true)
  chroot --userspec="$ids" --groups="${ids#*:}" "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="${home:-/}" \
    "${env_ref[@]}" /usr/bin/env -C "${dir:-/}" "$@"
}

copy_into() {  # copy_into ROOT WORKDIR FROM_ROOT DEST SRC...: the COPY instruction
  local root=$1 dir=$2 from_root=$3 dest=$4 src
  shift 4
  [[ $dest != /* ]] && dest=${dir%/}/$dest
  for src in "$@"; do
    if [[ -z $from_root ]]; then
      # From the build context: only the files .dockerignore lets through.
      local list
      if [[ $src == . ]]; then
        list=$(cat "$context_list")
      else
        list=$(grep -E "^${src%/}(/|$)" "$context_list" || true)
      fi
      if [[ -d $src ]]; then
        mkdir -p "$root$dest"
        if [[ $src == . ]]; then
          tar -C "$repo" --owner=0 --group=0 -cf - --verbatim-files-from -T <(printf '%s\n' "$list") | tar -C "$root$dest" -xf -
        else
          tar -C "$repo/$src" --owner=0 --group=0 -cf - --verbatim-files-from \
            -T <(sed "s|^${src%/}/||" <<<"$list") | tar -C "$root$dest" -xf -
        fi
      elif grep -qxF "$src" "$context_list"; then
        [[ $dest == */ || -d $root$dest ]] && dest=${dest%/}/${src##*/}
        mkdir -p "$(dirname "$root$dest")"
        cp -p "$repo/$src" "$root$dest"
        chown 0:0 "$root$dest"
      else
        fail "COPY $src: not in the build context"
        return 1
      fi
    else
      local from=$from_root$src
      if [[ -d $from ]]; then
        mkdir -p "$root$dest"
        cp -a "$from/." "$root$dest/"
      else
        [[ $dest == */ || -d $root$dest ]] && dest=${dest%/}/${src##*/}
        mkdir -p "$(dirname "$root$dest")"
        cp -p "$from" "$root$dest"
      fi
    fi
  done
}

# Replays one stage in ROOT; sets stage_user, stage_dir and stage_envs for what follows.
declare -A stage_roots=()
declare stage_user stage_dir
declare -a stage_envs
replay_stage() {
  local s=$1 root=$2 i t0 out
  case "${stage_from[s]}" in
  debian:12 | debian:12-slim | debian:bookworm | debian:bookworm-slim) ;;
  *)
    fail "stage ${stage_name[s]}: FROM ${stage_from[s]} is not Debian 12, which this check replays"
    return 1
    ;;
  esac
  new_root "$root" "$([[ $s != "$runtime_stage" ]] && echo ccache)"
  stage_roots[${stage_name[s]}]=$root
  stage_user="" stage_dir="/" stage_envs=()
  for i in "${!ins_kw[@]}"; do
    [[ ${ins_stage[i]} == "$s" ]] || continue
    local args=${ins_args[i]}
    case "${ins_kw[i]}" in
    FROM | EXPOSE | VOLUME | HEALTHCHECK | ENTRYPOINT | CMD | STOPSIGNAL | LABEL | ARG) ;;
    WORKDIR)
      [[ $args == /* ]] && stage_dir=$args || stage_dir=${stage_dir%/}/$args
      mkdir -p "$root$stage_dir"
      ;;
    USER) stage_user=$args ;;
    ENV) mapfile -t -O "${#stage_envs[@]}" stage_envs < <(stage_env_one "$args") ;;
    COPY)
      parse_copy "$args"
      local from_root=""
      if [[ -n $copy_from ]]; then
        from_root=${stage_roots[$copy_from]:-}
        if [[ -z $from_root ]]; then
          # The build stage was not replayed: its binary is the host's, stripped
          # as the build stage strips it.
          if [[ ${copy_srcs[0]##*/} != "${binary##*/}" ]]; then
            fail "COPY --from=$copy_from ${copy_srcs[*]}: stage not replayed (use --build-stage)"
            return 1
          fi
          from_root=$work/host-binary
          mkdir -p "$from_root$(dirname "${copy_srcs[0]}")"
          strip -o "$from_root${copy_srcs[0]}" "$binary"
        fi
      fi
      copy_into "$root" "$stage_dir" "$from_root" "$copy_dest" "${copy_srcs[@]}" || return 1
      ;;
    RUN)
      t0=$SECONDS
      if out=$(in_root "$root" "$stage_user" "$stage_dir" stage_envs /bin/sh -c "$args" 2>&1); then
        pass "stage ${stage_name[s]}: RUN ${args:0:70}$([[ ${#args} -gt 70 ]] && echo …) ($((SECONDS - t0)) s)"
      else
        fail "stage ${stage_name[s]}: RUN $args" "$(tail -40 <<<"$out")"
        return 1
      fi
      ;;
    *)
      fail "stage ${stage_name[s]}: ${ins_kw[i]} is not an instruction this check can replay"
      return 1
      ;;
    esac
  done
}

stage_env_one() {
  local w rest
  if [[ $1 == *=* ]]; then
    split_words "$1"
  else
    read -r w rest <<<"$1"
    printf '%s=%s\n' "$w" "$rest"
  fi
}

# Starts the image's command as its user in a private network namespace, with the secret files
# and a certificate where the README's mounts put them; waits for the HEALTHCHECK command to
# pass; sends the STOPSIGNAL; expects exit 0 within 10 s (SPEC §6).
serve_and_probe() {
  local root=$1 log=$2
  local -n envs=$3
  local ids
  ids=$(uid_of "$root" "$stage_user")
  local -a runner=(chroot --userspec="$ids" --groups="${ids#*:}" "$root" /usr/bin/env -i
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ "${envs[@]}"
    /usr/bin/env -C "$stage_dir")
  local signal=${stopsignal#SIG}
  # shellcheck disable=SC2016  # expanded by the inner bash
  unshare --net --fork bash -c '
    log=$1 health=$2 signal=$3 nargv=$4
    shift 4
    runner=("${@:1:$#-nargv}")
    argv=("${@:$#-nargv+1}")
    ip link set lo up
    "${runner[@]}" "${argv[@]}" >"$log" 2>&1 &
    pid=$!
    healthy=0
    for ((n = 0; n < 60; n++)); do
      if probe=$("${runner[@]}" /bin/sh -c "$health" 2>&1); then healthy=1; break; fi
      kill -0 $pid 2>/dev/null || break
      sleep 0.5
    done
    echo "healthy=$healthy after $((n / 2)) s"
    [[ $healthy == 1 ]] || printf "last probe: %s\n" "${probe:-(no output)}"
    kill -s "$signal" $pid 2>/dev/null
    for ((n = 0; n < 100; n++)); do
      kill -0 $pid 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 $pid 2>/dev/null; then
      kill -KILL $pid
      echo "exit=still running 10 s after SIG$signal"
    else
      wait $pid
      echo "exit=$?"
    fi
  ' probe "$log" "$health_cmd" "$signal" "${#argv[@]}" "${runner[@]}" "${argv[@]}"
}

# ---------------------------------------------------------------------------------------------
phase "the debootstrap root"
ensure_base

if ((build_stage)); then
  for ((s = 0; s < runtime_stage; s++)); do
    phase "stage '${stage_name[s]}' replayed in ${work#"$repo"/}/stage-${stage_name[s]}"
    replay_stage "$s" "$work/stage-${stage_name[s]}" || exit 1
    unmount_root "$work/stage-${stage_name[s]}"
  done
fi

phase "runtime stage '${stage_name[runtime_stage]}' replayed in ${work#"$repo"/}/stage-${stage_name[runtime_stage]}"
root=$work/stage-${stage_name[runtime_stage]}
replay_stage "$runtime_stage" "$root" || exit 1
rm -f "$root/etc/apt/apt.conf.d/01keep-debs"
unmount_root "$root"
mount_in "$root" proc proc
mount_in "$root" tmpfs dev/shm

exe=${argv[0]}
if [[ -n ${stage_roots[${stage_name[0]}]:-} ]]; then
  pass "the runtime stage's $exe is the build stage's binary"
else
  pass "the runtime stage's $exe is $binary (stripped); --build-stage builds it in a Debian 12 root instead"
fi
missing=$(chroot "$root" ldd "$exe" 2>&1 | grep -E 'not found|not a dynamic' || true)
if [[ -z $missing ]]; then
  pass "ldd $exe in the runtime root: every shared library is there ($(chroot "$root" ldd "$exe" | grep -c '=>') libraries)"
else
  fail "ldd $exe in the runtime root: libraries missing (add their packages to runtime_packages in scripts/install-deps.sh)" "$missing"
fi
# shellcheck disable=SC2034  # used through a nameref
empty=()
check "seedhook --version runs in the runtime root as USER ${stage_user:-root}: $(in_root "$root" "$stage_user" "$stage_dir" empty "$exe" --version 2>&1 || true)" \
  in_root "$root" "$stage_user" "$stage_dir" empty "$exe" --version
ids=$(uid_of "$root" "$stage_user")
if [[ ${ids%%:*} != 0 ]]; then
  pass "USER ${stage_user:-root} exists in the image with uid ${ids%%:*}"
else
  fail "USER ${stage_user:-root} is uid 0 in the image"
fi
added=$(comm -13 <(chroot "$base" dpkg-query -W -f '${Package}\n' | sort) \
  <(chroot "$root" dpkg-query -W -f '${Package}\n' | sort))
added_kb=$(chroot "$root" dpkg-query -W -f '${Package} ${Installed-Size}\n' |
  awk -v list="$added" 'BEGIN { n = split(list, a, "\n"); for (i = 1; i <= n; i++) want[a[i]] = 1 }
              want[$1] { s += $2 } END { print s + 0 }')
pass "the runtime stage adds $(wc -w <<<"$added") packages ($((added_kb / 1024)) MiB installed: $(tr '\n' ' ' <<<"$added"| sed 's/ $//')) and a $(awk -v b="$(stat -c %s "$root$exe")" 'BEGIN { printf "%.1f", b / 1048576 }') MiB binary to the base"
# The key and certificate the README's mount provides, readable by the image's user.
certs=$work/certs
if [[ ! -f $certs/tls.crt ]]; then
  mkdir -p "$certs"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj /CN=seedhook.example.com -keyout "$certs/tls.key" -out "$certs/tls.crt" 2>/dev/null
fi

for n in "${!run_cmds[@]}"; do
  label="docker run #$((n + 1))"
  parse_run "${run_cmds[n]}"
  cur_env=("${image_env[@]}")
  for item in "${run_env[@]}"; do
    cur_env+=("$(env_value "$item")")
  done
  # Each -v target as a fresh directory; /data keeps what the image put there, as a new
  # named volume does.
  for v in "${run_volumes[@]}"; do
    dst=${v#*:}
    dst=${dst%%:*}
    if [[ " $(tr -d '[]",' <<<"$volumes") " == *" $dst "* ]]; then
      rm -rf "${root:?}$dst"/*
      continue
    fi
    rm -rf "${root:?}$dst"
    mkdir -p "$root$dst"
  done
  for item in "${cur_env[@]}"; do
    if [[ ${item%%=*} == *_FILE ]]; then
      f=$root${item#*=}
      mkdir -p "$(dirname "$f")"
      printf 'check-container-placeholder\n' >"$f"
      chmod 0400 "$f"
      chown "${ids}" "$f"
    fi
  done
  for key in tls.cert_file tls.key_file; do
    f=$(effective "$key" "$config_in_repo")
    [[ -z $f ]] && continue
    mkdir -p "$(dirname "$root$f")"
    if [[ $key == tls.key_file ]]; then
      cp "$certs/tls.key" "$root$f"
    else
      cp "$certs/tls.crt" "$root$f"
    fi
    chmod 0400 "$root$f"
    chown "$ids" "$root$f"
  done
  check "$label in the runtime root: ${argv[*]} --check-config" \
    in_root "$root" "$stage_user" "$stage_dir" cur_env "${argv[@]}" --check-config
  log=$work/server-$((n + 1)).log
  t0=$SECONDS
  result=$(serve_and_probe "$root" "$log" cur_env)
  if [[ $result == *healthy=1* ]]; then
    pass "$label in the runtime root: seedhook serves and the HEALTHCHECK ($health_cmd) passes (${result%%$'\n'*})"
  else
    fail "$label in the runtime root: the HEALTHCHECK ($health_cmd) never passed" \
      "$(grep '^last probe:' <<<"$result"; echo "seedhook's output:"; tail -15 "$log")"
  fi
  if [[ $result == *exit=0* ]]; then
    pass "$label in the runtime root: $stopsignal stops it with exit 0 ($((SECONDS - t0)) s from start)"
  else
    fail "$label in the runtime root: after $stopsignal: ${result##*exit=}" "$(tail -5 "$log")"
  fi
  db=$(effective database.path "$config_in_repo")
  owner=$(stat -c %u "$root$db" 2>/dev/null || echo none)
  if [[ $owner == "${ids%%:*}" ]]; then
    pass "$label in the runtime root: the database $db was created by uid $owner"
  else
    fail "$label in the runtime root: no database at $db owned by uid ${ids%%:*} (owner: $owner)"
  fi
done

printf '\n== %d checks, %d failed, %d s\n' "${#summary[@]}" "$failures" "$((SECONDS - started))"
((failures == 0)) && echo "PASS  check-container" || echo "FAIL  check-container"
exit $((failures > 0))
