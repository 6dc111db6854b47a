# Shared by the bench scripts (sourced). stop_httpd stops the Apache whose
# parent pid is in $httpd_pid: TERM, up to 10 s for it to go, then KILL of
# it and its children; children of an earlier generation that outlived the
# parent (after graceful restarts) are killed too. Uses the caller's log().
stop_httpd() {
  [ -n "${httpd_pid:-}" ] || return 0
  local kids k; kids=$(pgrep -P "$httpd_pid" 2>/dev/null || true)
  kill -TERM "$httpd_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$httpd_pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$httpd_pid" 2>/dev/null; then
    log "Apache did not stop in 10 s; killing it"
    kill -KILL "$httpd_pid" $kids 2>/dev/null || true
  fi
  wait "$httpd_pid" 2>/dev/null || true
  for k in $kids; do kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null; done
  httpd_pid=""
}

# ab_build REV: the module built from commit REV in a worktree under
# build/ab/ (made once, reused); prints the .so's path.
ab_build() {
  local wt; wt=$ROOT/build/ab/$(git -C "$ROOT" rev-parse --short "$1")
  if [ ! -f "$wt/build/mod_trueasync.so" ]; then
    rm -rf "$wt"; git -C "$ROOT" worktree prune
    git -C "$ROOT" worktree add -q --detach "$wt" "$1"
    make -C "$wt" --no-print-directory module >/dev/null
  fi
  echo "$wt/build/mod_trueasync.so"
}
