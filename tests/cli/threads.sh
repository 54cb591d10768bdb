#!/usr/bin/env bash
# threads.sh — lmscope waits passively between OpenMP regions unless the user chose a policy
# (src/cli/main.c re-executes itself with OMP_WAIT_POLICY=PASSIVE: spinning threads make a step
# ~5-10x slower beside another busy process); a user's OMP_WAIT_POLICY or GOMP_SPINCOUNT is kept,
# and the re-executed program still gets its arguments and exit code.
set -u
L=${LMSCOPE:-./lmscope}
fail() { echo "FAIL: $*" >&2; exit 1; }
v=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$L" version) || fail "version exited $?"
case "$v" in *"wait policy PASSIVE"*) ;; *) fail "default policy is not passive: $v";; esac
v=$(env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=active "$L" version)
case "$v" in *"wait policy active"*) ;; *) fail "the user's OMP_WAIT_POLICY=active was not kept: $v";; esac
v=$(env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=1000 "$L" version)
case "$v" in *"policy default, GOMP_SPINCOUNT=1000"*) ;; *) fail "the user's GOMP_SPINCOUNT was not kept: $v";; esac
env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$L" sample --no-such-flag >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad flag after the re-exec did not exit 2"
exit 0
