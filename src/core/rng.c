/* rng.c — xoshiro256** seeded through splitmix64 (see rng.h). */
#include "core/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) { return lms_mix64(*x += 0x9E3779B97F4A7C15ull); }

void lms_rng_seed(lms_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lms_rng_u64(lms_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t lms_rng_u32(lms_rng *r) { return (uint32_t)(lms_rng_u64(r) >> 32); }

uint64_t lms_rng_below(lms_rng *r, uint64_t n) {
    /* Rejection sampling on the top of the range keeps the draw unbiased. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = lms_rng_u64(r); while (x >= limit);
    return x % n;
}

float lms_rng_uniform(lms_rng *r) { return (float)(lms_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

double lms_rng_uniform_f64(lms_rng *r) { return (double)(lms_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

float lms_rng_normal(lms_rng *r) {
    double u1 = lms_rng_uniform_f64(r), u2 = lms_rng_uniform_f64(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
