/* hash.c — SHA-256 through OpenSSL's EVP interface (see hash.h). */
#include "core/hash.h"

#include <openssl/evp.h>
#include <stdio.h>

#include "core/status.h"

/* lms_sha256 is never defined: a handle is an EVP_MD_CTX pointer, cast. */

lms_sha256 *lms_sha256_new(void) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) return NULL;
    LMS_ASSERT(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1);
    return (lms_sha256 *)ctx; /* the handle is the context itself */
}

void lms_sha256_update(lms_sha256 *h, const void *data, size_t len) {
    LMS_ASSERT(EVP_DigestUpdate((EVP_MD_CTX *)h, data, len) == 1);
}

void lms_sha256_final_hex(lms_sha256 *h, char hex[65]) {
    unsigned char md[32];
    unsigned int n = 0;
    LMS_ASSERT(EVP_DigestFinal_ex((EVP_MD_CTX *)h, md, &n) == 1 && n == 32);
    EVP_MD_CTX_free((EVP_MD_CTX *)h);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

void lms_sha256_hex(const void *data, size_t len, char hex[65]) {
    lms_sha256 *h = lms_sha256_new();
    LMS_ASSERT(h != NULL);
    lms_sha256_update(h, data, len);
    lms_sha256_final_hex(h, hex);
}
