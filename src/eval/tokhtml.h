/* tokhtml.h — the self-contained HTML page of per-token loss ('lmscope inspect --html').
 *
 * One file, no external resources: inline CSS, the text with every token a coloured <span>
 * (class "t", attribute data-i = the token's index in the result), a small inline script that shows
 * a tooltip on hover (the token, its log-prob, rank and the model's top alternatives), the summary
 * and the hardest tokens. With a second model: tokens are coloured by the difference of log-probs
 * (blue: the second model is better, red: worse), with the comparison summary and the top tokens
 * each way. Token bytes that end inside a UTF-8 character are shown with the next token, so the
 * page is valid UTF-8 whatever the tokenizer split; invalid bytes show as U+FFFD. The file is
 * written crash-safely (temporary + rename).
 *
 *   lms_tokhtml h = {.text = text, .tok = tok, .a = &r, .name_a = "runs/s3"};
 *   if (lms_tokhtml_write("out.html", &h, &err)) ...;
 *
 * Leaves out: the terminal view (cli/cmd_inspect.c), the run report (report/).
 */
#ifndef LMS_EVAL_TOKHTML_H
#define LMS_EVAL_TOKHTML_H

#include "core/status.h"
#include "eval/tokloss.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    const char *text;            /* the scored text (the results' offsets point into it) */
    const lms_tokenizer *tok;    /* for the alternatives' text */
    const lms_tokloss *a;        /* required */
    const char *name_a;          /* model A's name as the user gave it */
    const lms_tokloss *b;        /* NULL, or model B on the same tokens */
    const char *name_b;
    const lms_tokloss_cmp *cmp;  /* required with b */
} lms_tokhtml;

/* Write the page to path. LMS_ERR_ARG (no result, b without cmp), LMS_ERR_IO, LMS_ERR_NOMEM; on
   failure no file is left at path (and a file already there is untouched). */
lms_status lms_tokhtml_write(const char *path, const lms_tokhtml *h, lms_err *err);

/* Background colour for a loss (nats), as CSS "hsl(H,S%,L%)" into out[32]: green (easy) through
   yellow to red (8 nats and more). */
void lms_tokhtml_loss_color(double loss, char *out);
/* Same for a difference of log-probs: blue when > 0 (B better), red when < 0, white at 0,
   saturating at 4 nats. */
void lms_tokhtml_diff_color(double diff, char *out);

#endif
