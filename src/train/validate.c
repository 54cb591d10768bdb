/* validate.c — token-weighted validation loss per domain, forward only (see validate.h).
 *
 * Leaves out: which windows are validation (data/loader.c), printing (cli/).
 */
#include "train/validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

lms_status lms_validate(lms_scorer *s, const lms_loader *loader, int max_batches, const lms_tokenizer *tok,
                        lms_val_result *r, lms_err *err) {
    return lms_validate_part(s, loader, max_batches, 0, 1, tok, r, err);
}

lms_status lms_validate_part(lms_scorer *s, const lms_loader *loader, int max_batches, int part, int n_parts,
                             const lms_tokenizer *tok, lms_val_result *r, lms_err *err) {
    memset(r, 0, sizeof *r);
    r->loss = r->bpb = NAN;
    const int B = lms_loader_B(loader), T = lms_loader_T(loader);
    if (B > lms_scorer_max_B(s) || T > lms_scorer_max_T(s))
        return lms_errf(err, LMS_ERR_ARG, "validation batches are %d x %d but the scorer holds %d x %d", B, T,
                        lms_scorer_max_B(s), lms_scorer_max_T(s));
    int nd = lms_loader_num_domains(loader);
    r->n_domains = nd;
    r->domain = calloc((size_t)(nd > 0 ? nd : 1), sizeof *r->domain);
    size_t n = (size_t)B * (size_t)T;
    int32_t *in = lms_alloc(n * sizeof *in, err), *tg = lms_alloc(n * sizeof *tg, err);
    float *lp = lms_alloc(n * sizeof *lp, err);
    lms_status st = LMS_OK;
    if (!r->domain || !in || !tg || !lp) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory for validation buffers (%d x %d)", B, T);
        goto done;
    }
    for (int d = 0; d < nd; d++) r->domain[d].name = lms_loader_domain_name(loader, d);
    double all = 0;
    int nb = lms_loader_num_val_batches(loader);
    if (max_batches >= 0 && nb > max_batches) nb = max_batches;
    for (int i = part; i < nb; i += n_parts) {
        lms_loader_val_batch(loader, i, in, tg, NULL);
        int rows = lms_loader_val_rows(loader, i); /* a domain's last batch repeats rows: score the real ones */
        int d = lms_loader_val_domain(loader, i);
        lms_gpt_score(s, in, tg, rows, T, lp, NULL);
        double sum = 0;
        int64_t cnt = 0, bytes = 0;
        for (size_t k = 0; k < (size_t)rows * (size_t)T; k++) {
            if (tg[k] < 0) continue;
            sum -= lp[k];
            cnt++;
            if (tok) {
                size_t len = 0;
                lms_tokenizer_token(tok, (uint32_t)tg[k], &len);
                bytes += (int64_t)len;
            }
        }
        if (d >= 0 && d < nd) {
            r->domain[d].loss_sum += sum;
            r->domain[d].tokens += cnt;
            r->domain[d].bytes += bytes;
        }
        all += sum;
        r->tokens += cnt;
        r->bytes += bytes;
        r->batches++;
    }
    for (int d = 0; d < nd; d++) {
        lms_val_domain *v = &r->domain[d];
        v->loss = v->tokens ? v->loss_sum / (double)v->tokens : NAN;
        v->bpb = v->bytes ? v->loss_sum / log(2.0) / (double)v->bytes : NAN;
    }
    if (r->tokens) r->loss = all / (double)r->tokens;
    if (r->bytes) r->bpb = all / log(2.0) / (double)r->bytes;
done:
    lms_free(in);
    lms_free(tg);
    lms_free(lp);
    if (st) lms_val_result_free(r);
    return st;
}

void lms_val_result_free(lms_val_result *r) {
    if (!r) return;
    free(r->domain);
    memset(r, 0, sizeof *r);
    r->loss = r->bpb = NAN;
}
