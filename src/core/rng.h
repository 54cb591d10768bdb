/* rng.h — a small, fast, seedable random number generator (xoshiro256**) with uniform and
 * normal draws. Deterministic across platforms: the same seed gives the same stream, which is
 * what makes training runs and data sampling reproducible bit for bit. The state is a plain
 * struct so it can be saved in a checkpoint and restored.
 */
#ifndef LMS_CORE_RNG_H
#define LMS_CORE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} lms_rng;

void lms_rng_seed(lms_rng *r, uint64_t seed);  /* any seed, 0 included */

/* splitmix64's finaliser: a fast bijective 64-bit mix, for hashing and for deriving seeds. */
static inline uint64_t lms_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}
uint64_t lms_rng_u64(lms_rng *r);
uint32_t lms_rng_u32(lms_rng *r);
uint64_t lms_rng_below(lms_rng *r, uint64_t n); /* uniform in [0, n), n > 0, unbiased */
float lms_rng_uniform(lms_rng *r);              /* uniform in [0, 1) with 24 random bits */
double lms_rng_uniform_f64(lms_rng *r);         /* uniform in [0, 1) with 53 random bits */
float lms_rng_normal(lms_rng *r);               /* standard normal (Box-Muller) */

#endif
