#!/usr/bin/env bash
# The scheduled refresh of the list, kept out of the workflow's YAML so it can be tried locally.
#
#   refresh.sh [run] [--dry-run] [--refresh] [--pull-request] [--seeds PATH] [--out DIR]
#                    [--cache DIR] [--columns LIST] [-- ENRICH-RUN-OPTION...]
#   refresh.sh issue [--dry-run] OUTCOME      OUTCOME: ok | partial | failed
#   refresh.sh keepalive [--dry-run]
#
# run        `python -m enrich run` in the current git checkout, then, when OUT changed, commit
#            OUT -- and only it -- with OUT/CHANGES.md as the message body: on the current
#            branch and push it, or (--pull-request) on the branch $REFRESH_BRANCH, opening
#            or updating one pull request. enrich's exit 1 (a source failed; the output is
#            still written) is committed all the same, and reported as `partial`.
#            Appends the run's summary to $GITHUB_STEP_SUMMARY and writes `outcome` and
#            `summary` to $GITHUB_OUTPUT when they are set. --columns (comma-separated, e.g.
#            stars,citations) writes them as the `columns` of an enrich.toml, which is never
#            committed, for this run; refused when the checkout has an enrich.toml already.
#            Exits with enrich's code (0 ok, 1 partial, 2 bad usage: nothing committed), or 3
#            when committing, pushing or the pull request failed.
# issue      open or update the one open issue labelled $FAILURE_LABEL when OUTCOME is not ok
#            (with $REFRESH_SUMMARY as details); close it when OUTCOME is ok.
# keepalive  re-enable this workflow through the API: GitHub disables a scheduled workflow
#            after 60 days without repository activity, and enabling resets that clock.
#
# --dry-run (or DRY_RUN=1) still runs `python -m enrich run` for real, but prints the commit
# message, the step summary and what would be pushed or opened instead of committing,
# pushing or calling gh. Try it in a clone:  bash .github/scripts/refresh.sh --dry-run
#
# Environment (options win): DRY_RUN, REFRESH, PULL_REQUEST (1/true/yes/on), ENRICH_SEEDS
# (default seeds), ENRICH_OUT (output), ENRICH_CACHE (cache), ENRICH_COLUMNS (none),
# REFRESH_BRANCH (enrich/refresh), COMMIT_SUBJECT (Refresh OUT/: the subject's start),
# FAILURE_LABEL (refresh-failure); GH_TOKEN for gh; the GITHUB_* variables of Actions.
set -euo pipefail

DRY_RUN=${DRY_RUN:-}
REFRESH=${REFRESH:-}
PULL_REQUEST=${PULL_REQUEST:-}
SEEDS=${ENRICH_SEEDS:-seeds}
OUT=${ENRICH_OUT:-output}
CACHE=${ENRICH_CACHE:-cache}
COLUMN_LIST=${ENRICH_COLUMNS:-}
PR_BRANCH=${REFRESH_BRANCH:-enrich/refresh}
LABEL=${FAILURE_LABEL:-refresh-failure}
BOT_NAME="github-actions[bot]"
BOT_EMAIL="41898099+github-actions[bot]@users.noreply.github.com"

WORK=$(mktemp -d)
WROTE_CONFIG=""
cleanup() {
    rm -rf "$WORK"
    if [[ -n $WROTE_CONFIG ]]; then rm -f "$WROTE_CONFIG"; fi
}
trap cleanup EXIT

truthy() {
    case $1 in 1 | [Tt]rue | TRUE | [Yy]es | YES | [Oo]n | ON) return 0 ;; *) return 1 ;; esac
}

say() { printf '%s\n' "$*"; }

# What publishing did, for the step summary (kept in a file: publishing runs in a subshell).
result() { say "$*" >"$WORK/result"; }

warn() {
    if [[ -n ${GITHUB_ACTIONS:-} ]]; then say "::warning::$*" >&2; else say "warning: $*" >&2; fi
}

die() {
    say "refresh.sh: $*" >&2
    exit 2
}

dry() { truthy "$DRY_RUN"; }

# Print a file between rulers, for the dry run's reader.
show() {
    say "----- $1"
    cat "$2"
    say "-----"
}

run_url() {
    if [[ -n ${GITHUB_RUN_ID:-} ]]; then
        say "${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/$GITHUB_RUN_ID"
    else
        say "a local run"
    fi
}

# Append a file to the job's step summary (when running in Actions) and, in a dry run, show it.
step_summary() {
    if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
        cat "$1" >>"$GITHUB_STEP_SUMMARY"
    fi
    if dry; then show "step summary" "$1"; fi
}

# Set a step output (multi-line safe) when running in Actions.
set_output() {
    [[ -n ${GITHUB_OUTPUT:-} ]] || return 0
    local delimiter="EOF_$RANDOM$RANDOM"
    printf '%s<<%s\n%s\n%s\n' "$1" "$delimiter" "$2" "$delimiter" >>"$GITHUB_OUTPUT"
}

current_branch() {
    git symbolic-ref --quiet --short HEAD || say "${GITHUB_REF_NAME:-}"
}

# The commit message (subject, blank line, body) for the change to $OUT, into file $1.
commit_message() {
    local outcome=$1 file=$2 changes="$OUT/CHANGES.md" first="" subject
    if [[ -f $changes && -n $(git status --porcelain --untracked-files=all -- "$changes") ]]; then
        first=$(grep -v -e '^#' -e '^[[:space:]]*$' "$changes" | head -n 1 || true)
        first=${first%.}
    fi
    subject="${COMMIT_SUBJECT:-Refresh $OUT/}${first:+: $first}"
    if [[ $outcome == partial ]]; then subject="$subject (some sources failed)"; fi
    {
        say "$subject"
        say ""
        if [[ -n $first ]]; then
            cat "$changes"
        else
            say "No fact changed; regenerated:"
            say ""
            git status --porcelain --untracked-files=all -- "$OUT" | cut -c4- | sed 's/^/- /'
        fi
    } >"$file"
}

commit() {
    git add --all -- "$OUT"
    git -c "user.name=$(git config user.name || say "$BOT_NAME")" \
        -c "user.email=$(git config user.email || say "$BOT_EMAIL")" \
        commit --quiet --cleanup=whitespace --file "$1" -- "$OUT"
    git log -1 --format='committed %h %s'
}

push_branch() {
    local branch=$1
    if git push --quiet origin "HEAD:refs/heads/$branch"; then return 0; fi
    say "the push was rejected; rebasing on origin/$branch and trying once more"
    git fetch --quiet origin "$branch"
    git rebase --quiet FETCH_HEAD
    git push --quiet origin "HEAD:refs/heads/$branch"
}

# Commit $OUT on the current branch and push it.
publish_direct() {
    local message=$1 branch
    branch=$(current_branch)
    [[ -n $branch ]] || die "not on a branch, and GITHUB_REF_NAME is not set"
    if dry; then
        show "commit message" "$message"
        say "dry run: would commit $OUT/ on $branch and push it to origin/$branch"
        result "would commit \`$OUT/\` to \`$branch\`"
        return 0
    fi
    commit "$message"
    push_branch "$branch"
    result "committed \`$(git rev-parse --short HEAD)\` to \`$branch\`"
}

# Commit $OUT on $PR_BRANCH (started afresh from the current branch) and open or update the PR.
publish_pull_request() {
    local message=$1 base subject body number
    base=$(current_branch)
    [[ -n $base ]] || die "not on a branch, and GITHUB_REF_NAME is not set"
    subject=$(head -n 1 "$message")
    body="$WORK/pr-body.md"
    {
        tail -n +3 "$message"
        say ""
        say "---"
        say "Opened by the scheduled refresh ($(run_url)). Merge it to publish the refresh;" \
            "the next refresh replaces this branch."
    } >"$body"
    if dry; then
        show "commit message" "$message"
        say "dry run: would commit $OUT/ on $PR_BRANCH (from $base), force-push it, and open" \
            "or update the pull request $PR_BRANCH -> $base titled: $subject"
        result "would open or update a pull request from \`$PR_BRANCH\`"
        return 0
    fi
    git checkout --quiet -B "$PR_BRANCH"
    commit "$message"
    git push --quiet --force origin "HEAD:refs/heads/$PR_BRANCH"
    number=$(gh pr list --head "$PR_BRANCH" --base "$base" --state open \
        --json number --jq '.[0].number // empty')
    if [[ -n $number ]]; then
        gh pr edit "$number" --title "$subject" --body-file "$body" >/dev/null
        result "updated pull request #$number"
    else
        gh pr create --base "$base" --head "$PR_BRANCH" --title "$subject" --body-file "$body"
        result "opened a pull request from \`$PR_BRANCH\`"
    fi
    cat "$WORK/result"
}

# With nothing to commit in pull-request mode, an open refresh PR is obsolete: close it.
close_obsolete_pull_request() {
    local base number
    base=$(current_branch)
    if dry; then
        say "dry run: would close the open pull request from $PR_BRANCH, if any"
        return 0
    fi
    number=$(gh pr list --head "$PR_BRANCH" --base "$base" --state open \
        --json number --jq '.[0].number // empty')
    if [[ -n $number ]]; then
        gh pr close "$number" --delete-branch \
            --comment "The refresh of $(run_url) finds $OUT/ on $base current: nothing to merge."
        result "$(cat "$WORK/result"); closed the obsolete pull request #$number"
    fi
}

publish() {
    local outcome=$1 message="$WORK/commit-message.txt"
    if [[ -z $(git status --porcelain --untracked-files=all -- "$OUT") ]]; then
        say "nothing to commit: $OUT/ is unchanged"
        result "nothing to commit: \`$OUT/\` is unchanged"
        if truthy "$PULL_REQUEST"; then close_obsolete_pull_request; fi
        return 0
    fi
    commit_message "$outcome" "$message"
    if truthy "$PULL_REQUEST"; then
        publish_pull_request "$message"
    else
        publish_direct "$message"
    fi
}

# The generated columns of this run, as an uncommitted enrich.toml (the CLI reads it).
write_columns() {
    local column quoted=() columns=()
    [[ ! -e enrich.toml ]] || die "--columns: this checkout has an enrich.toml; set columns there"
    IFS=', ' read -r -a columns <<<"$1"
    for column in "${columns[@]}"; do
        [[ $column =~ ^[a-z_]+$ ]] || die "--columns: '$column' is not a column name"
        quoted+=("\"$column\"")
    done
    WROTE_CONFIG="$PWD/enrich.toml"
    (IFS=,; printf 'columns = [%s]\n' "${quoted[*]}") >enrich.toml
}

cmd_run() {
    local extra=() args code=0 outcome summary="$WORK/summary.md"
    while (($#)); do
        case $1 in
        --dry-run) DRY_RUN=1 ;;
        --refresh) REFRESH=1 ;;
        --pull-request) PULL_REQUEST=1 ;;
        --seeds) SEEDS=${2:?--seeds needs a path} && shift ;;
        --out) OUT=${2:?--out needs a folder} && shift ;;
        --cache) CACHE=${2:?--cache needs a folder} && shift ;;
        --columns) COLUMN_LIST=${2:?--columns needs a list} && shift ;;
        --) shift && extra=("$@") && break ;;
        *) die "unknown option $1 (see the top of $0)" ;;
        esac
        shift
    done
    cd "$(git rev-parse --show-toplevel)"
    OUT=${OUT%/}
    if [[ -n $COLUMN_LIST ]]; then write_columns "$COLUMN_LIST"; fi
    args=(--seeds "$SEEDS" --out "$OUT" --cache "$CACHE" --summary-md "$summary")
    if truthy "$REFRESH"; then args+=(--refresh); fi
    if ! command -v python >/dev/null; then python() { python3 "$@"; }; fi

    COLUMNS=${COLUMNS:-160} python -m enrich run "${args[@]}" ${extra[@]+"${extra[@]}"} || code=$?

    case $code in
    0) outcome=ok ;;
    1) outcome=partial ;;
    *) outcome=failed ;;
    esac
    if [[ ! -s $summary ]]; then
        # shellcheck disable=SC2016 # backquotes are markdown here
        printf '### enrich run\n\n`python -m enrich run` exited %s: %s\n' "$code" \
            "bad usage or unreadable input; nothing was committed (see the job log)." >"$summary"
    fi
    result "nothing committed: \`python -m enrich run\` exited $code"
    if ((code <= 1)); then
        # A subshell outside any condition, so that `set -e` holds inside it: any failing
        # git or gh command stops publishing and is reported.
        set +e
        (set -e; publish "$outcome")
        local published=$?
        set -e
        if ((published != 0)); then
            outcome=failed code=3
            result "committing, pushing or the pull request failed: see the job log"
        fi
    fi
    printf '\n**Refresh**: %s (exit code %s, %s).\n' "$(cat "$WORK/result")" "$code" "$outcome" \
        >>"$summary"
    step_summary "$summary"
    set_output outcome "$outcome"
    set_output summary "$(cat "$summary")"
    if dry; then REFRESH_SUMMARY=$(cat "$summary") cmd_issue "$outcome"; fi
    return "$code"
}

cmd_issue() {
    local outcome="" number body="$WORK/issue.md"
    while (($#)); do
        case $1 in
        --dry-run) DRY_RUN=1 ;;
        ok | partial | failed) outcome=$1 ;;
        *) die "issue: want ok, partial or failed, not '$1'" ;;
        esac
        shift
    done
    [[ -n $outcome ]] || die "issue: want an outcome: ok, partial or failed"
    if [[ $outcome == ok ]]; then
        if dry; then
            say "dry run: would close the open issue labelled $LABEL, if any"
            return 0
        fi
        number=$(gh issue list --label "$LABEL" --state open --json number \
            --jq '.[0].number // empty')
        if [[ -n $number ]]; then
            gh issue close "$number" --comment "Fixed: the refresh of $(run_url) succeeded."
        fi
        return 0
    fi
    {
        say "The scheduled refresh ended \`$outcome\`: $(run_url)."
        say ""
        if [[ $outcome == partial ]]; then
            say "Some source failed; its items keep their last known values (marked \`stale\`)" \
                "and the rest of the refresh was committed."
        fi
        say ""
        say "${REFRESH_SUMMARY:-See the log and the summary of the run.}"
        say ""
        say "This issue is updated by every failing refresh and closed by the next one that" \
            "succeeds."
    } >"$body"
    if dry; then
        show "issue labelled $LABEL (would open it, or comment on the open one)" "$body"
        return 0
    fi
    number=$(gh issue list --label "$LABEL" --state open --json number \
        --jq '.[0].number // empty')
    if [[ -n $number ]]; then
        gh issue comment "$number" --body-file "$body"
    else
        gh label create "$LABEL" --force --color d73a4a \
            --description "The scheduled refresh failed" >/dev/null
        gh issue create --title "Scheduled refresh failed" --label "$LABEL" --body-file "$body"
    fi
}

cmd_keepalive() {
    local workflow=${GITHUB_WORKFLOW_REF:-refresh.yml}
    [[ ${1:-} == --dry-run ]] && DRY_RUN=1
    workflow=${workflow%%@*}
    workflow=${workflow##*/}
    local endpoint="repos/${GITHUB_REPOSITORY:-OWNER/REPO}/actions/workflows/$workflow/enable"
    if dry; then
        say "dry run: would PUT $endpoint"
        return 0
    fi
    if gh api --method PUT "$endpoint" >/dev/null; then
        say "re-enabled $workflow: the 60-day inactivity clock starts again"
    else
        warn "could not re-enable $workflow; GitHub may disable its schedule after 60 quiet days"
    fi
}

main() {
    case ${1:-} in
    issue) shift && cmd_issue "$@" ;;
    keepalive) shift && cmd_keepalive "$@" ;;
    run) shift && cmd_run "$@" ;;
    *) cmd_run "$@" ;;
    esac
}

main "$@"
