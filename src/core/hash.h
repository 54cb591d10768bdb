/* hash.h — SHA-256 (via OpenSSL's libcrypto) for content identities: the tokenizer's hash in a
 * shard manifest, pinned corpus text, checkpoint provenance. */
#ifndef LMS_CORE_HASH_H
#define LMS_CORE_HASH_H

#include <stddef.h>

typedef struct lms_sha256 lms_sha256;

lms_sha256 *lms_sha256_new(void); /* NULL only when out of memory */
void lms_sha256_update(lms_sha256 *h, const void *data, size_t len);
void lms_sha256_final_hex(lms_sha256 *h, char hex[65]); /* also frees h */

/* One-shot: hex digest of a buffer. */
void lms_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
