#!/usr/bin/env bash
# The shell side of keyleak's GitHub Action (action.yml). Every step of the action calls one
# subcommand, so the whole logic runs (and is tested) outside GitHub too:
#
#   setup    the install directory added to PATH; the release binary for the action's own tag
#            (or the `version` input) downloaded and verified when there is one (output
#            installed=true), else the cache key for a build from source
#   install  build keyleak from the action's own source (when setup installed nothing)
#   scan     decide what to scan from the event, run keyleak once to SARIF, write the job
#            summary, the annotations and the outputs; exits 0 even when secrets are found
#            (so the SARIF upload still runs); exits 2 when the scan cannot run
#   fail     the last step: fails the job when `scan` found secrets at or above `fail-on`
#
# Inputs arrive as INPUT_* variables (action.yml maps each one); the GitHub context as the usual
# GITHUB_* variables. Outside Actions, outputs are printed instead of written to GITHUB_OUTPUT.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ZERO=0000000000000000000000000000000000000000

die() {
  echo "::error title=keyleak::$*"
  exit 2
}
notice() { echo "::notice title=keyleak::$*"; }
warn() { echo "::warning title=keyleak::$*"; }

output() {
  if [[ -n ${GITHUB_OUTPUT:-} ]]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  else
    printf 'output %s=%s\n' "$1" "$2"
  fi
}

# A field of the event payload (dotted path; empty when absent or null).
event() {
  [[ -n ${GITHUB_EVENT_PATH:-} && -f ${GITHUB_EVENT_PATH:-} ]] || return 0
  python3 "$here/report.py" event "$GITHUB_EVENT_PATH" "$1"
}

# ---- setup / install ---------------------------------------------------------------------

# Where the build lives between runs (cached by actions/cache under the same path).
CACHE_ROOT=${KEYLEAK_ACTION_CACHE:-$HOME/.cache/keyleak-action}

# The release binary of TAG into $CACHE_ROOT/bin with install.sh (checksum-verified against
# the release's SHA256SUMS). Releases come from the action's own repository;
# KEYLEAK_DOWNLOAD_URL replaces that URL (a mirror, or the test suite's loopback server).
# Returns install.sh's status: 0 installed, 1 unavailable, 3 refused (checksum).
download_release() {
  local tag=$1 dest=$2 action=$3 target arch
  case ${RUNNER_ARCH:-$(uname -m)} in
    X64 | x86_64 | amd64) arch=x86_64 ;;
    ARM64 | aarch64 | arm64) arch=aarch64 ;;
    *) return 1 ;;
  esac
  case ${RUNNER_OS:-$(uname -s)} in
    Linux) target=$arch-unknown-linux-musl ;;
    macOS | Darwin) target=$arch-apple-darwin ;;
    *) return 1 ;;
  esac
  local repo=${KEYLEAK_ACTION_REPOSITORY:-keyleak/keyleak}
  KEYLEAK_DOWNLOAD_URL=${KEYLEAK_DOWNLOAD_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repo/releases} \
    sh "$action/install.sh" --version "$tag" --target "$target" --to "$dest"
}

cmd_setup() {
  local os=${RUNNER_OS:-$(uname -s)} arch=${RUNNER_ARCH:-$(uname -m)} src lock key
  local action=${GITHUB_ACTION_PATH:-$(dirname "$here")}
  local ref=${KEYLEAK_ACTION_REF:-} version tag="" required=false rc=0 tmp got
  output path "$CACHE_ROOT"
  mkdir -p "$CACHE_ROOT/bin"
  if [[ -n ${GITHUB_PATH:-} ]]; then
    echo "$CACHE_ROOT/bin" >>"$GITHUB_PATH"
  fi

  # Which release to download: the `version` input; the tag the action is used at
  # (`uses: keyleak/keyleak@v1.2.3`); or, for a commit SHA, the release of the version in
  # Cargo.toml if that release was built from this very commit. Anything else builds.
  version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$action/Cargo.toml" 2>/dev/null | head -n 1)
  if [[ -n ${INPUT_VERSION:-} ]]; then
    tag=v${INPUT_VERSION#v}
    required=true
  elif [[ $ref =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]; then
    tag=$ref
  elif [[ $ref =~ ^[0-9a-f]{40}$ && -n $version ]]; then
    tag=v$version
  fi
  if [[ -n $tag ]]; then
    tmp=$(mktemp -d)
    download_release "$tag" "$tmp" "$action" || rc=$?
    if ((rc == 0)) && [[ $ref =~ ^[0-9a-f]{40}$ && -z ${INPUT_VERSION:-} ]]; then
      # `keyleak --version` names the commit it was built from.
      got=$("$tmp/keyleak" --version | sed -n 's/.*(commit \([0-9a-f]*\).*/\1/p')
      if [[ -z $got || ${ref:0:${#got}} != "$got" ]]; then
        echo "keyleak: release $tag was built from ${got:-an unknown commit}, not ${ref:0:12}: building this commit instead"
        rc=1
      fi
    fi
    if ((rc == 0)); then
      mv -f "$tmp/keyleak" "$CACHE_ROOT/bin/keyleak"
      rm -rf "$tmp"
      output installed true
      return 0
    fi
    rm -rf "$tmp"
    ((rc != 3)) || die "the keyleak $tag release does not match its SHA256SUMS: refusing to run it"
    [[ $required == false ]] || die "keyleak $tag could not be downloaded (see above)"
    [[ $ref =~ ^[0-9a-f]{40}$ ]] || notice "no keyleak $tag release binary for $os/$arch: building from source"
  fi
  output installed false

  [[ -f $action/Cargo.lock ]] || die "$action/Cargo.lock not found: the action must be used from a keyleak checkout"
  lock=$(sha256sum "$action/Cargo.lock" | cut -c1-16)
  # Everything that goes into the binary: a changed source rebuilds (only keyleak itself,
  # since the restore key brings back the compiled dependencies of the same Cargo.lock).
  src=$(cd "$action" && find Cargo.toml Cargo.lock build.rs src patterns -type f -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  key="keyleak-action-v1-$os-$arch-$lock-$src"
  output key "$key"
  output restore-key "keyleak-action-v1-$os-$arch-$lock-"
}

cmd_install() {
  local action=${GITHUB_ACTION_PATH:-$(dirname "$here")}
  command -v cargo >/dev/null ||
    die "cargo not found: run on a runner with Rust (GitHub-hosted runners have it) or add a Rust toolchain step before keyleak"
  export CARGO_TARGET_DIR="$CACHE_ROOT/target" CARGO_TERM_COLOR=never
  cargo install --path "$action" --locked --force --root "$CACHE_ROOT"
  "$CACHE_ROOT/bin/keyleak" --version
}

# ---- scan ------------------------------------------------------------------------------------

# A range with abbreviated commit ids, for people.
short_range() {
  sed -E 's/([0-9a-f]{12})[0-9a-f]{28}/\1/g' <<<"$1"
}

is_shallow() { [[ $(git -C "$repo" rev-parse --is-shallow-repository) == true ]]; }
have_commit() { git -C "$repo" cat-file -e "$1^{commit}" 2>/dev/null; }
have_merge_base() { git -C "$repo" merge-base "$1" "$2" >/dev/null 2>&1; }

# `git fetch` from origin, authenticated with the `token` input for GitHub remotes (the checkout
# may have been made with `persist-credentials: false`). Never fetches tags.
fetch() {
  local auth=() server=${GITHUB_SERVER_URL:-https://github.com} url basic
  url=$(git -C "$repo" remote get-url origin 2>/dev/null) || return 1
  if [[ -n ${INPUT_TOKEN:-} && $url == "$server"/* ]]; then
    basic=$(printf 'x-access-token:%s' "$INPUT_TOKEN" | base64 | tr -d '\n')
    echo "::add-mask::$basic"
    auth=(-c "http.$server/.extraheader=AUTHORIZATION: basic $basic")
  fi
  git -C "$repo" "${auth[@]}" fetch --no-tags --quiet origin "$@"
}

# Fetches commits or refs, only as deep as DEPTH in a shallow checkout (never makes a complete
# checkout shallow).
fetch_shallow() {
  local depth=$1
  shift
  if is_shallow; then fetch --depth="$depth" "$@"; else fetch "$@"; fi
}

# Makes BASE, HEAD and their merge base present, fetching what a shallow (or partial) checkout
# lacks: first DEPTH commits of each, then deeper until the histories meet.
ensure_range() {
  local base=$1 head=$2 depth=$3 missing=() c step
  if have_commit "$base" && have_commit "$head" && have_merge_base "$base" "$head"; then
    return 0
  fi
  if ! is_shallow; then
    for c in "$base" "$head"; do have_commit "$c" || missing+=("$c"); done
    if ((${#missing[@]})); then
      echo "keyleak: fetching ${missing[*]} from origin"
      fetch "${missing[@]}" ||
        die "commit ${missing[*]} is not in the checkout and cannot be fetched from origin"
    fi
    return 0 # complete history: no merge base means unrelated histories, which keyleak reports
  fi
  for c in "$base" "$head"; do have_commit "$c" || missing+=("$c"); done
  if ((${#missing[@]})); then
    echo "keyleak: shallow checkout: fetching ${missing[*]} (depth $depth) from origin"
    fetch --depth="$depth" "${missing[@]}" ||
      die "shallow checkout: cannot fetch ${missing[*]} from origin; use \`fetch-depth: 0\` in actions/checkout"
  fi
  step=$depth
  for _ in 1 2 3 4 5 6; do
    have_merge_base "$base" "$head" && return 0
    step=$((step * 2))
    echo "keyleak: shallow checkout: no common ancestor yet; fetching $step more commits"
    fetch --deepen="$step" "$base" "$head" || break
  done
  have_merge_base "$base" "$head" ||
    die "shallow checkout: $base and $head have no common ancestor in the fetched history; use \`fetch-depth: 0\` in actions/checkout"
}

# A warning annotation on FILE (workflow-command property escapes).
warn_at() {
  local file=$1 msg=$2
  file=${file//%/%25}
  file=${file//$'\r'/%0D}
  file=${file//$'\n'/%0A}
  file=${file//:/%3A}
  file=${file//,/%2C}
  echo "::warning file=$file,title=keyleak::$msg"
}

# The policy files (keyleak.toml, .keyleak.toml, .keyleakignore, and the config and baseline
# inputs when they are in the repository) that HEAD changes against the trusted BASE.
policy_changes() {
  local base=$1 head=$2 names=(keyleak.toml .keyleak.toml .keyleakignore) input rel
  for input in "${INPUT_CONFIG:-}" "${INPUT_BASELINE:-}"; do
    [[ -n $input ]] || continue
    rel=$(in_repo "$input") && names+=("$rel")
  done
  git -C "$repo" diff --no-renames --name-only "$base" "$head" -- "${names[@]}"
}

# The path of FILE relative to the repository's top, when it is inside it (else fails).
in_repo() {
  local rel
  python3 "$here/report.py" inrepo "$1" "$top"
}

# The config or baseline input to pass to keyleak. Without a trusted base it is the file as
# given. On a pull request a file inside the repository is taken from the base commit, since
# the checkout's copy is the author's (`git show`, which never follows a committed symlink).
trusted_file() {
  local what=$1 input=$2 rel out
  if [[ -z $trust ]] || ! rel=$(in_repo "$input"); then
    printf '%s\n' "$input"
    return 0
  fi
  out="${RUNNER_TEMP:-$(mktemp -d)}/keyleak-trusted-$what"
  if [[ $(git -C "$repo" cat-file -t "$trust:$rel" 2>/dev/null) != blob ]] ||
    [[ $(git -C "$repo" ls-tree "$trust" -- "$rel" | cut -c1-6) == 120000 ]]; then
    die "$what: \`$input\` is not a regular file in the base commit $trust, so it cannot be trusted; merge it first, or point \`$what\` outside the repository" >&2
  fi
  git -C "$repo" cat-file blob "$trust:$rel" >"$out" || die "$what: cannot read \`$rel\` from $trust" >&2
  printf '%s\n' "$out"
}

# Sets `spec` (a --range) or `history_ref` for a push event.
plan_push() {
  local before after ref default base count
  before=$(event before)
  after=$(event after)
  ref=$(event ref)
  default=$(event repository.default_branch)
  count=$(event commits.length)
  [[ -n $after ]] || die "push event without \`after\`"
  if [[ $after == "$ZERO" ]]; then
    spec='' # a deleted branch or tag: nothing was added
    return 0
  fi
  if [[ -n $before && $before != "$ZERO" ]]; then
    if have_commit "$before" || fetch_shallow 1 "$before" 2>/dev/null; then
      ensure_range "$before" "$after" "$((${count:-0} + 1))"
      spec="$before...$after" # a force push: what is new since the common history
      return 0
    fi
    warn "the previous head $before cannot be fetched (force push?): scanning like a new branch"
  fi
  # A new branch or tag: the commits not on the default branch.
  if [[ -z $default || $ref == "refs/heads/$default" ]]; then
    history_ref=$after # the first push of the default branch: all of it
    return 0
  fi
  base=$(git -C "$repo" rev-parse --verify -q "refs/remotes/origin/$default^{commit}" || true)
  if [[ -z $base ]] && fetch_shallow 50 "refs/heads/$default" 2>/dev/null; then
    base=$(git -C "$repo" rev-parse --verify -q "FETCH_HEAD^{commit}" || true)
  fi
  if [[ -z $base ]]; then
    warn "new ref $ref: the default branch \`$default\` cannot be fetched; scanning only the pushed commit $after"
    ensure_range "$after" "$after" 2
    # Its parent too: a shallow boundary commit would diff against nothing (the whole tree).
    if is_shallow; then fetch --deepen=1 "$after" || true; fi
    spec=$after
    return 0
  fi
  ensure_range "$base" "$after" 50
  spec="$base...$after"
}

cmd_scan() {
  local mode=${INPUT_MODE:-auto} path=${INPUT_PATH:-.} fail_on=${INPUT_FAIL_ON:-medium}
  local upload=${INPUT_UPLOAD_SARIF:-true} sarif=${INPUT_SARIF_FILE:-}
  local name=${GITHUB_EVENT_NAME:-} ws=${GITHUB_WORKSPACE:-$PWD}
  local spec='' history_ref='' what='' args=() rc=0 prefix='' top count base head
  local trust='' token changed file allow_fail=${INPUT_FAIL_ON_INLINE_ALLOW:-false}

  case $mode in auto | range | history | dir) ;; *) die "mode: \`$mode\` is not one of auto, range, history, dir" ;; esac
  case $fail_on in critical | high | medium | low) ;; *) die "fail-on: \`$fail_on\` is not one of critical, high, medium, low" ;; esac
  case $upload in true | false) ;; *) die "upload-sarif: \`$upload\` is not true or false" ;; esac
  case $allow_fail in true | false) ;; *) die "fail-on-inline-allow: \`$allow_fail\` is not true or false" ;; esac
  command -v keyleak >/dev/null || die "keyleak is not on PATH (the install step did not run?)"
  cd "$ws" || die "GITHUB_WORKSPACE $ws: no such directory"
  [[ -e $path ]] || die "path: \`$path\` does not exist"
  if [[ -z $sarif ]]; then
    sarif="${RUNNER_TEMP:-$(mktemp -d)}/keyleak.sarif"
  fi

  if [[ $mode == auto ]]; then
    case $name in
      pull_request | pull_request_target | merge_group | push) mode=range ;;
      *) mode=history ;;
    esac
  fi

  if [[ $mode != dir ]]; then
    repo=$path
    top=$(git -C "$repo" rev-parse --show-toplevel 2>/dev/null) ||
      die "path: \`$path\` is not inside a git repository (check out the repository first, or use \`mode: dir\`)"
    # Annotations need workspace-relative paths; keyleak's are relative to the repository.
    prefix=$(python3 "$here/report.py" relpath "$top" "$ws")
  fi

  case $mode in
    range)
      case $name in
        pull_request | pull_request_target)
          base=$(event pull_request.base.sha)
          head=$(event pull_request.head.sha)
          [[ -n $base && -n $head ]] || die "pull_request event without base.sha / head.sha"
          count=$(event pull_request.commits)
          ensure_range "$base" "$head" "$((${count:-0} + 1))"
          spec="$base...$head"
          trust=$base
          what="pull request #$(event pull_request.number)"
          ;;
        merge_group)
          base=$(event merge_group.base_sha)
          head=$(event merge_group.head_sha)
          [[ -n $base && -n $head ]] || die "merge_group event without base_sha / head_sha"
          ensure_range "$base" "$head" 50
          spec="$base...$head"
          trust=$base
          what="merge queue"
          ;;
        push)
          plan_push
          what="push to $(event ref)"
          ;;
        *) die "mode: range needs a pull_request, merge_group or push event, not \`${name:-none}\`" ;;
      esac
      if [[ -n $history_ref ]]; then
        args=(git "$repo" --branch "$history_ref")
        what="$what (all of $history_ref's history)"
      elif [[ -n $spec ]]; then
        args=(git "$repo" --range "$spec")
        # The checkout is the change's own merge commit: its keyleak.toml and .keyleakignore
        # are the author's. Read them from the base, which the author cannot rewrite.
        [[ -z $trust ]] || args+=(--trust-from "$trust")
        what="$what (\`$(short_range "$spec")\`)"
      fi
      ;;
    history)
      if is_shallow; then
        echo "keyleak: shallow checkout: fetching the full history of the checked-out branch"
        fetch --unshallow ||
          warn "shallow checkout: could not fetch the full history; scanning only what is present (use \`fetch-depth: 0\`)"
      fi
      args=(git "$repo")
      what="the history of every ref"
      ;;
    dir)
      args=(dir "$path")
      what="the files under \`$path\`"
      ;;
  esac

  if ((${#args[@]} == 0)); then
    notice "nothing to scan: $what deleted a ref"
    output findings 0
    output sarif-file ""
    output failed false
    output upload false
    return 0
  fi

  args+=(-f sarif -o "$sarif" --fail-on "$fail_on" --no-progress)
  changed="${sarif%.sarif}.policy-changes"
  : >"$changed"
  if [[ -n $trust ]]; then
    policy_changes "$trust" "${spec##*...}" >"$changed"
  fi
  if [[ -n ${INPUT_CONFIG:-} ]]; then
    file=$(trusted_file config "$INPUT_CONFIG") || exit 2
    args+=(--config "$file")
  fi
  if [[ -n ${INPUT_BASELINE:-} ]]; then
    file=$(trusted_file baseline "$INPUT_BASELINE") || exit 2
    args+=(--baseline "$file")
  fi
  echo "keyleak: scanning $what"
  echo "+ keyleak ${args[*]}"
  # keyleak's messages quote what the scanned change wrote (paths, config values); they are
  # escaped, and on top of that no workflow command is honoured until keyleak has finished.
  token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  echo "::stop-commands::$token"
  keyleak "${args[@]}" || rc=$?
  echo "::$token::"
  case $rc in
    0 | 1) ;;
    *) die "keyleak could not scan (exit code $rc; its message is above)" ;;
  esac

  count=$(python3 "$here/report.py" count "$sarif")
  # keyleak writes the annotations from its own SARIF (the escaping and the severity → level
  # mapping of `-f github`); its exit code here says only whether it could.
  keyleak merge "$sarif" -f github --path-prefix "$prefix" --exit-code 0 -q ||
    die "keyleak could not write the annotations from $sarif (a \`version\` input older than the action needs \`keyleak merge -f github\`)"
  while IFS= read -r f; do
    [[ -n $f ]] || continue
    warn_at "$prefix$f" "this change edits $f: keyleak read it from the base commit instead (the edit applies once merged); review it"
  done <"$changed"
  if [[ $allow_fail == true && $rc == 0 ]] &&
    (($(python3 "$here/report.py" added-allows "$sarif" "$fail_on") > 0)); then
    rc=1 # fail-on-inline-allow: a change may not waive its own findings
  fi
  if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
    python3 "$here/report.py" summary "$sarif" "$prefix" "$what" "$fail_on" "$rc" "$changed" >>"$GITHUB_STEP_SUMMARY"
  fi

  # A pull request from a fork gets a read-only token: the upload would fail.
  if [[ $upload == true && $name == pull_request* ]] &&
    [[ $(event pull_request.head.repo.full_name) != "$(event pull_request.base.repo.full_name)" ]]; then
    notice "pull request from a fork: its token cannot upload SARIF; see the job summary instead"
    upload=false
  fi
  output findings "$count"
  output sarif-file "$sarif"
  output failed "$([[ $rc == 1 ]] && echo true || echo false)"
  output upload "$upload"
}

cmd_fail() {
  echo "::error title=keyleak::${FINDINGS:-some} secret(s) found, at least one at or above \`${INPUT_FAIL_ON:-medium}\`: see the annotations and the job summary"
  exit 1
}

case ${1:-} in
  setup) cmd_setup ;;
  install) cmd_install ;;
  scan) cmd_scan ;;
  fail) cmd_fail ;;
  *)
    echo "usage: $0 setup|install|scan|fail" >&2
    exit 2
    ;;
esac
