/* safetensors.h — read and write safetensors files (the Hugging Face tensor format), for any
 * set of named tensors.
 *
 * Layout of a file:
 *   bytes [0, 8)        N, the header length, unsigned 64-bit little-endian
 *   bytes [8, 8+N)      a UTF-8 JSON object: for each tensor
 *                         "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}
 *                       and optionally "__metadata__": {"key": "value", ...} (strings only);
 *                       writers may pad it with trailing spaces
 *   bytes [8+N, end)    the data section; a tensor's bytes are [8+N+begin, 8+N+end), little-endian,
 *                       row-major (C order)
 *
 * The reader checks everything against the file's length before trusting it: N within the file
 * (and at most 100 MB), the header a JSON object with no duplicate keys, every dtype one that
 * lmscope reads (F32, F16, BF16; others are rejected with a message), shapes of non-negative
 * integers whose product times the item size equals end - begin without overflow, offsets within
 * the data section, and no two tensors' byte ranges overlapping. Files are memory-mapped; tensor
 * data is read in place (lms_st_read_f32 converts F16/BF16 to F32 while copying).
 *
 * The writer pads the header with spaces so that the data section starts at a multiple of 8
 * bytes, lays the tensors out in the order they were added, and writes crash-safely (a temporary
 * renamed over the target, core/fileio.h).
 *
 *   lms_st_reader *r;
 *   if (lms_st_open(&r, "model.safetensors", &err)) return err.code;
 *   const lms_st_tensor *t = lms_st_find(r, "wte.weight");      // NULL if absent
 *   float *w = malloc(t->numel * sizeof(float));
 *   lms_st_read_f32(t, w);
 *   const char *v = lms_st_metadata(r, "n_layer");              // NULL if absent
 *   lms_st_close(r);
 *
 *   lms_st_writer *w;
 *   lms_st_writer_create(&w, &err);
 *   int64_t shape[2] = {V, C};
 *   lms_st_writer_add(w, "wte.weight", LMS_ST_F32, 2, shape, wte, &err);  // wte borrowed until write
 *   lms_st_writer_set_metadata(w, "format", "pt", &err);
 *   lms_st_writer_write(w, "out.safetensors", &err);
 *   lms_st_writer_free(w);
 *
 * Leaves out: dtypes other than F32/F16/BF16 (integers, F64, F8), big-endian hosts (the format
 * is little-endian; so is every machine lmscope builds on), and what the tensors mean (the GPT-2
 * mapping lives in checkpoint.h).
 */
#ifndef LMS_MODEL_SAFETENSORS_H
#define LMS_MODEL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "core/status.h"

#define LMS_ST_MAX_DIMS 8
#define LMS_ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000) /* the limit Hugging Face's reader uses */

typedef enum { LMS_ST_F32 = 0, LMS_ST_F16, LMS_ST_BF16 } lms_st_dtype;

/* "F32", "F16", "BF16". */
const char *lms_st_dtype_name(lms_st_dtype dt);
/* Bytes per element: 4 or 2. */
size_t lms_st_dtype_size(lms_st_dtype dt);

/* One tensor of an open file. Pointers stay valid until lms_st_close. */
typedef struct {
    const char *name;          /* NUL-terminated UTF-8 */
    lms_st_dtype dtype;
    int ndim;                  /* 0 (a scalar) .. LMS_ST_MAX_DIMS */
    int64_t shape[LMS_ST_MAX_DIMS];
    int64_t numel;             /* product of shape (1 for a scalar) */
    const unsigned char *data; /* numel * dtype size bytes inside the mapping; NOT necessarily aligned */
    size_t nbytes;
    uint64_t begin, end;       /* data_offsets, relative to the data section */
} lms_st_tensor;

typedef struct lms_st_reader lms_st_reader; /* opaque */

/* Open and validate a file (memory-mapped). On failure *out is NULL and err says what is wrong
 * (naming the tensor or field). Close with lms_st_close. */
lms_status lms_st_open(lms_st_reader **out, const char *path, lms_err *err);

/* Same checks on bytes already in memory; data is borrowed and must outlive the reader.
 * `what` names the source in error messages (may be NULL). */
lms_status lms_st_open_memory(lms_st_reader **out, const void *data, size_t len, const char *what,
                              lms_err *err);

void lms_st_close(lms_st_reader *r); /* NULL is fine */

/* Tensors in order of their data offsets (file order). 0 <= i < lms_st_count(r). */
int lms_st_count(const lms_st_reader *r);
const lms_st_tensor *lms_st_get(const lms_st_reader *r, int i);
const lms_st_tensor *lms_st_find(const lms_st_reader *r, const char *name); /* NULL if absent */

/* "__metadata__" entries (strings only, per the format). NULL if the key is absent. */
const char *lms_st_metadata(const lms_st_reader *r, const char *key);
int lms_st_metadata_count(const lms_st_reader *r);
void lms_st_metadata_at(const lms_st_reader *r, int i, const char **key, const char **value);

/* Size of the whole mapped file / of the JSON header in bytes. */
size_t lms_st_file_size(const lms_st_reader *r);
uint64_t lms_st_header_size(const lms_st_reader *r);

/* Copy a tensor's t->numel elements into dst [numel] as F32, converting F16/BF16 exactly. */
void lms_st_read_f32(const lms_st_tensor *t, float *dst);

/* Element conversions (exact for F16/BF16 -> F32; F32 -> F16/BF16 round to nearest even,
 * F16 overflow gives infinity, NaN stays NaN). */
float lms_st_f16_to_f32(uint16_t h);
float lms_st_bf16_to_f32(uint16_t b);
uint16_t lms_st_f32_to_f16(float f);
uint16_t lms_st_f32_to_bf16(float f);
/* n elements of dtype dt at src (any alignment) -> dst [n] F32. */
void lms_st_convert_to_f32(lms_st_dtype dt, const void *src, float *dst, size_t n);

/* ---- writer ---- */
typedef struct lms_st_writer lms_st_writer; /* opaque */

lms_status lms_st_writer_create(lms_st_writer **out, lms_err *err);
void lms_st_writer_free(lms_st_writer *w); /* NULL is fine */

/* Add a tensor: data points to numel * dtype size bytes in dtype dt, little-endian, row-major,
 * and is BORROWED: it must stay valid and unchanged until lms_st_writer_write returns.
 * Fails (LMS_ERR_ARG) on an empty, too long (>= 1024 bytes) or duplicate name, on the reserved
 * name "__metadata__", ndim outside 0..LMS_ST_MAX_DIMS or a negative dimension. */
lms_status lms_st_writer_add(lms_st_writer *w, const char *name, lms_st_dtype dt, int ndim,
                             const int64_t *shape, const void *data, lms_err *err);

/* Set (or replace) one "__metadata__" string entry; key and value are copied. */
lms_status lms_st_writer_set_metadata(lms_st_writer *w, const char *key, const char *value,
                                      lms_err *err);

/* Write everything to path crash-safely: either the complete file is at path afterwards, or the
 * previous file (if any) is untouched and no temporary is left behind. The writer can be
 * written again or freed. */
lms_status lms_st_writer_write(lms_st_writer *w, const char *path, lms_err *err);

#endif
