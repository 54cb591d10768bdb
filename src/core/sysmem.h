/* sysmem.h — how much memory this process may still use, for refusing a plan that cannot fit
 * before allocating it (a plan larger than memory would otherwise start, grow, and be killed by
 * the kernel, possibly hours later).
 *
 *   lms_sysmem m;
 *   lms_sysmem_available(&m);
 *   if (m.bytes && need > m.bytes) ... refuse, naming m.source ...
 *
 * Leaves out: swap (training on swap is unusable), NUMA nodes, per-user limits other than
 * RLIMIT_AS.
 */
#ifndef LMS_CORE_SYSMEM_H
#define LMS_CORE_SYSMEM_H

#include <stdint.h>

typedef struct {
    uint64_t bytes;     /* the smallest bound found; 0 when none could be read (then do not refuse) */
    char source[64];    /* which bound it is: "MemAvailable", "cgroup limit", "ulimit -v" */
} lms_sysmem;

/* The smallest of: /proc/meminfo MemAvailable; the memory cgroup's limit minus its usage (v2
 * memory.max - memory.current, v1 memory.limit_in_bytes - memory.usage_in_bytes, for this
 * process's cgroup or the mount root); RLIMIT_AS when set. The environment variable
 * LMSCOPE_MEM_AVAILABLE (bytes, or with a K/M/G suffix) replaces all of them, for tests and for
 * machines whose limits these files do not show. Never fails. */
void lms_sysmem_available(lms_sysmem *m);

#endif
