/* sysmem.c — see sysmem.h. Reads /proc and /sys/fs/cgroup; every file is optional. */
#include "core/sysmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* First unsigned integer in a small file ("max" and unreadable files give 0). */
static uint64_t read_u64(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char buf[64] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *end;
    unsigned long long v = strtoull(buf, &end, 10);
    return end == buf ? 0 : (uint64_t)v;
}

static void take(lms_sysmem *m, uint64_t bytes, const char *source) {
    if (!bytes) return;
    if (!m->bytes || bytes < m->bytes) {
        m->bytes = bytes;
        snprintf(m->source, sizeof m->source, "%s", source);
    }
}

/* The value of `key` in a cgroup's memory.stat, 0 if absent. */
static uint64_t stat_key(const char *dir, const char *key) {
    char p[600], line[256];
    snprintf(p, sizeof p, "%s/memory.stat", dir);
    FILE *f = fopen(p, "r");
    uint64_t v = 0;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, k) && line[k] == ' ') v = strtoull(line + k + 1, NULL, 10);
    if (f) fclose(f);
    return v;
}

/* limit - usage of one cgroup directory, v2 or v1 names; 0 if it has no (finite) limit. The
   usage counts the page cache, of which the inactive files are reclaimed before an OOM kill. */
static uint64_t cgroup_room(const char *dir, int v2) {
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/%s", dir, v2 ? "memory.max" : "memory.limit_in_bytes");
    snprintf(b, sizeof b, "%s/%s", dir, v2 ? "memory.current" : "memory.usage_in_bytes");
    uint64_t lim = read_u64(a), use = read_u64(b);
    if (!lim || lim >= (1ull << 60)) return 0; /* "max", or v1's "unlimited" 2^63 - page */
    uint64_t cache = stat_key(dir, v2 ? "inactive_file" : "total_inactive_file");
    use = use > cache ? use - cache : 0;
    return lim > use ? lim - use : 1;
}

static void cgroups(lms_sysmem *m) {
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        int v2 = c1[1] == ':' && !strncmp(line, "0:", 2);
        int v1 = !v2 && !strncmp(c1 + 1, "memory", 6) && (c1[7] == ':' || c1[7] == ',');
        if (!v1 && !v2) continue;
        char dir[600];
        snprintf(dir, sizeof dir, "/sys/fs/cgroup%s%s", v2 ? "" : "/memory", c2 + 1);
        take(m, cgroup_room(dir, v2), "cgroup limit");
    }
    if (f) fclose(f);
    /* inside a container the cgroup namespace shows its own cgroup at the mount root */
    take(m, cgroup_room("/sys/fs/cgroup", 1), "cgroup limit");
    take(m, cgroup_room("/sys/fs/cgroup/memory", 0), "cgroup limit");
}

void lms_sysmem_available(lms_sysmem *m) {
    memset(m, 0, sizeof *m);
    const char *env = getenv("LMSCOPE_MEM_AVAILABLE");
    if (env && *env) {
        char *end;
        double v = strtod(env, &end);
        double mul = *end == 'K' || *end == 'k' ? 1024.0 : *end == 'M' || *end == 'm' ? 1048576.0
                   : *end == 'G' || *end == 'g' ? 1073741824.0 : 1.0;
        if (end != env && v > 0) {
            m->bytes = (uint64_t)(v * mul);
            snprintf(m->source, sizeof m->source, "LMSCOPE_MEM_AVAILABLE");
            return;
        }
    }
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long kb;
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) take(m, (uint64_t)kb * 1024, "MemAvailable");
    }
    if (f) fclose(f);
    cgroups(m);
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) take(m, (uint64_t)rl.rlim_cur, "ulimit -v");
}
