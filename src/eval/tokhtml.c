/* tokhtml.c — writes the self-contained per-token loss page (contract in tokhtml.h).
 *
 * The per-token data for the tooltips is one JSON array in a <script> block, written with jansson
 * (ASCII-only output, and '<' escaped as \u003c so no text can close the script element); the
 * visible text is HTML-escaped into the spans. Leaves out: any external resource, charts.
 */
#include "eval/tokhtml.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/fileio.h"

void lms_tokhtml_loss_color(double loss, char *out) {
    double x = isfinite(loss) ? loss / 8.0 : 1.0;
    x = x < 0 ? 0 : x > 1 ? 1 : x;
    snprintf(out, 32, "hsl(%d,85%%,%d%%)", (int)lround(120.0 * (1.0 - x)), (int)lround(88.0 - 16.0 * x));
}

void lms_tokhtml_diff_color(double diff, char *out) {
    double x = isfinite(diff) ? fabs(diff) / 4.0 : 1.0;
    x = x > 1 ? 1 : x;
    snprintf(out, 32, "hsl(%d,%d%%,%d%%)", diff >= 0 ? 210 : 0, (int)lround(90.0 * x), (int)lround(98.0 - 26.0 * x));
}

/* HTML-escape s[0..len) (valid UTF-8 as it is, invalid bytes as U+FFFD). */
static void put_html(FILE *fp, const char *s, size_t len) {
    for (size_t i = 0; i < len;) {
        size_t adv;
        int32_t c = lms_utf8_decode(s + i, len - i, &adv);
        if (c < 0) fputs("\xef\xbf\xbd", fp);
        else if (c == '&') fputs("&amp;", fp);
        else if (c == '<') fputs("&lt;", fp);
        else if (c == '>') fputs("&gt;", fp);
        else if (c == '"') fputs("&quot;", fp);
        else if (c == '\r') ;
        else if (c < 0x20 && c != '\n' && c != '\t') fprintf(fp, "&#x%x;", 0x2400 + c); /* control picture */
        else fwrite(s + i, 1, adv, fp);
        i += adv;
    }
}

static void put_htmlz(FILE *fp, const char *s) { put_html(fp, s, strlen(s)); }

static json_t *tok_str(const char *s, size_t len) {
    char buf[512];
    return json_string(lms_tok_escape(s, len, buf, sizeof buf));
}

static json_t *alts_json(const lms_tokenizer *tok, const lms_tokloss_tok *t) {
    json_t *alts = json_array();
    for (int k = 0; k < t->n_top; k++) {
        size_t al = 0;
        const char *ab = lms_tokenizer_token(tok, t->top_id[k], &al);
        json_t *p = json_array();
        json_array_append_new(p, ab ? tok_str(ab, al) : json_string("?"));
        json_array_append_new(p, json_real(t->top_logp[k]));
        json_array_append_new(alts, p);
    }
    return alts;
}

/* The tooltip data: per token [text, logp, rank, [[alt, logp], ...]] and, with B, logp_B, rank_B, B's alternatives. */
static char *tooltip_json(const lms_tokhtml *h) {
    json_t *arr = json_array();
    for (size_t i = 0; i < h->a->n; i++) {
        const lms_tokloss_tok *t = &h->a->tok[i];
        json_t *row = json_array();
        json_array_append_new(row, t->len ? tok_str(h->text + t->off, t->len) : json_string("<|endoftext|>"));
        json_array_append_new(row, json_real(t->logp));
        json_array_append_new(row, json_integer(t->rank));
        json_array_append_new(row, alts_json(h->tok, t));
        if (h->b) {
            json_array_append_new(row, json_real(h->b->tok[i].logp));
            json_array_append_new(row, json_integer(h->b->tok[i].rank));
            json_array_append_new(row, alts_json(h->tok, &h->b->tok[i]));
        }
        json_array_append_new(arr, row);
    }
    char *s = json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
    json_decref(arr);
    return s;
}

static const char *CSS =
    "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1100px;"
    "padding:0 16px;color:#222}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 6px}\n"
    ".meta{color:#555;margin:2px 0}.note{color:#8a5a00;margin:2px 0}\n"
    "#text{font:14px/1.9 ui-monospace,'DejaVu Sans Mono',monospace;white-space:pre-wrap;word-wrap:break-word;"
    "border:1px solid #ddd;border-radius:6px;padding:12px;margin-top:12px;background:#fff}\n"
    ".t{border-radius:2px;cursor:default;box-shadow:inset -1px 0 0 rgba(0,0,0,.13)}.t:hover{outline:2px solid #333}\n"
    ".nl::before{content:'\\b6';color:#777}\n"
    ".legend span{display:inline-block;padding:0 8px;margin-right:2px;font-size:13px}\n"
    "table{border-collapse:collapse;font-size:14px}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:right}"
    "td.s,th.s{text-align:left;font-family:ui-monospace,'DejaVu Sans Mono',monospace;white-space:pre}\n"
    "#tip{position:fixed;display:none;background:#fffff4;border:1px solid #999;border-radius:4px;padding:6px 9px;"
    "font:13px/1.4 ui-monospace,'DejaVu Sans Mono',monospace;box-shadow:0 2px 6px rgba(0,0,0,.2);pointer-events:none;"
    "white-space:pre;z-index:9}\n";

static const char *JS =
    "(function(){var tip=document.getElementById('tip');\n"
    "function f(x){return (Math.round(x*1000)/1000).toFixed(3);}\n"
    "function q(s){return '\"'+s+'\"';}\n"
    "document.getElementById('text').addEventListener('mouseover',function(e){\n"
    " var el=e.target;if(!el.classList||!el.classList.contains('t'))return;var d=D[+el.dataset.i];\n"
    " var s='token '+q(d[0])+'\\n';\n"
    " if(d[2]>0){s+=(B?'A: ':'')+'log p '+f(d[1])+'  loss '+f(-d[1])+'  rank '+d[2]+'\\n';\n"
    "  if(B)s+='B: log p '+f(d[4])+'  loss '+f(-d[4])+'  rank '+d[5]+'\\n'+'B - A: '+(d[4]>=d[1]?'+':'')+f(d[4]-d[1])+' nats\\n';}\n"
    " else s+='(not scored: nothing precedes it)\\n';\n"
    " for(var w=0;w<(B?2:1);w++){var al=w?d[6]:d[3];if(!al.length)continue;"
    "s+='top alternatives'+(B?(w?' (B)':' (A)'):'')+':\\n';for(var k=0;k<al.length;k++)"
    "s+='  '+q(al[k][0])+'  '+(100*Math.exp(al[k][1])).toFixed(1)+'%\\n';}\n"
    " tip.textContent=s;tip.style.display='block';});\n"
    "document.getElementById('text').addEventListener('mousemove',function(e){\n"
    " var x=e.clientX+14,y=e.clientY+14,w=tip.offsetWidth,h=tip.offsetHeight;\n"
    " if(x+w>innerWidth-4)x=Math.max(4,e.clientX-w-10);if(y+h>innerHeight-4)y=Math.max(4,e.clientY-h-10);\n"
    " tip.style.left=x+'px';tip.style.top=y+'px';});\n"
    "document.getElementById('text').addEventListener('mouseout',function(){tip.style.display='none';});\n"
    "})();\n";

static void put_summary(FILE *fp, const char *label, const char *name, const lms_tokloss *r) {
    fprintf(fp, "<p class=\"meta\">%s<b>", label);
    put_htmlz(fp, name ? name : "model");
    fprintf(fp, "</b>: %lld tokens scored, %lld bytes; total log-prob %.3f nats; mean loss %.4f nats/token; "
            "%.4f bits/byte</p>\n", (long long)r->scored, (long long)r->bytes, r->sum_logp, r->mean_loss, r->bpb);
}

static void put_tok_cell(FILE *fp, const lms_tokhtml *h, size_t i) {
    char buf[512];
    const lms_tokloss_tok *t = &h->a->tok[i];
    fputs("<td class=\"s\">\"", fp);
    put_htmlz(fp, lms_tok_escape(h->text + t->off, t->len, buf, sizeof buf));
    fputs("\"</td><td class=\"s\">", fp);
    /* a little context: up to 24 bytes before the token */
    size_t c0 = t->off > 24 ? t->off - 24 : 0;
    put_htmlz(fp, lms_tok_escape(h->text + c0, t->off - c0, buf, sizeof buf));
    fputs("</td>", fp);
}

static void write_page(FILE *fp, const lms_tokhtml *h, const char *data) {
    const lms_tokloss *a = h->a;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>lmscope inspect</title>\n<style>\n", fp);
    fputs(CSS, fp);
    fputs("</style></head><body>\n", fp);
    fprintf(fp, "<h1>%s</h1>\n", h->b ? "Per-token comparison" : "Per-token loss");
    put_summary(fp, h->b ? "A = " : "", h->name_a, a);
    if (h->b) put_summary(fp, "B = ", h->name_b, h->b);
    if (a->bos) fputs("<p class=\"meta\">&lt;|endoftext|&gt; was put before the text, so its first token is scored too.</p>\n", fp);
    else fputs("<p class=\"meta\">The tokenizer has no &lt;|endoftext|&gt;: the first token is not scored.</p>\n", fp);
    if (a->windowed || (h->b && h->b->windowed))
        fprintf(fp, "<p class=\"note\">The text is longer than the context (%d tokens): it was scored with a sliding window "
                "(each token with at least half a context before it).</p>\n", a->windowed ? a->n_ctx : h->b->n_ctx);
    char col[32];
    fputs("<div class=\"legend\">", fp);
    if (h->b) {
        const double d[] = {-4, -2, -1, 0, 1, 2, 4};
        for (int k = 0; k < 7; k++) {
            lms_tokhtml_diff_color(d[k], col);
            fprintf(fp, "<span style=\"background:%s\">%+g</span>", col, d[k]);
        }
        fputs(" log p(B) &minus; log p(A), nats: blue where B is better, red where A is better", fp);
    } else {
        const double l[] = {0, 1, 2, 4, 6, 8};
        for (int k = 0; k < 6; k++) {
            lms_tokhtml_loss_color(l[k], col);
            fprintf(fp, "<span style=\"background:%s\">%g%s</span>", col, l[k], k == 5 ? "+" : "");
        }
        fputs(" loss (&minus;log p, nats) of each token; hover a token for its rank and the model's alternatives", fp);
    }
    fputs("</div>\n<div id=\"text\">", fp);
    /* spans: carry the bytes of a character cut by the tokenizer over to the next token */
    size_t carry_off = 0, carry_len = 0;
    for (size_t i = 0; i < a->n; i++) {
        const lms_tokloss_tok *t = &a->tok[i];
        if (t->len == 0) continue;
        size_t start = carry_len ? carry_off : t->off, len = t->off + t->len - start;
        size_t show = lms_tok_utf8_complete(h->text + start, len);
        if (i + 1 == a->n) show = len;
        if (h->b) lms_tokhtml_diff_color(t->scored ? h->cmp->diff[i] : 0, col);
        else if (t->scored) lms_tokhtml_loss_color(-t->logp, col);
        else snprintf(col, sizeof col, "#eee");
        fprintf(fp, "<span class=\"t%s\" data-i=\"%zu\" style=\"background:%s\">", memchr(h->text + start, '\n', show) ? " nl" : "",
                i, col);
        put_html(fp, h->text + start, show);
        fputs("</span>", fp);
        carry_off = start + show;
        carry_len = len - show;
    }
    fputs("</div>\n", fp);

    if (h->b) {
        const lms_tokloss_cmp *c = h->cmp;
        fprintf(fp, "<h2>Comparison</h2>\n<p class=\"meta\">mean log p(B) &minus; log p(A): <b>%+.4f</b> nats/token over %lld "
                "tokens; B much better (&ge; %.2g nats) on %lld tokens, much worse on %lld.</p>\n",
                c->mean_diff, (long long)c->scored, c->threshold, (long long)c->much_better, (long long)c->much_worse);
        for (int dir = 0; dir < 2; dir++) {
            int n = dir ? c->n_worse : c->n_better;
            fprintf(fp, "<h2>Where B is %s</h2>\n", dir ? "worse" : "better");
            if (!n) {
                fputs("<p class=\"meta\">none</p>\n", fp);
                continue;
            }
            fputs("<table><tr><th class=\"s\">token</th><th class=\"s\">after</th><th>log p(A)</th><th>log p(B)</th>"
                  "<th>B &minus; A</th><th>rank A</th><th>rank B</th></tr>\n", fp);
            for (int k = 0; k < n; k++) {
                size_t i = dir ? c->worse[k] : c->better[k];
                fputs("<tr>", fp);
                put_tok_cell(fp, h, i);
                fprintf(fp, "<td>%.3f</td><td>%.3f</td><td>%+.3f</td><td>%d</td><td>%d</td></tr>\n", a->tok[i].logp,
                        h->b->tok[i].logp, c->diff[i], a->tok[i].rank, h->b->tok[i].rank);
            }
            fputs("</table>\n", fp);
        }
    } else {
        /* the ten hardest tokens */
        size_t idx[10];
        int n = lms_tokloss_hardest(a, idx, 10);
        fputs("<h2>Hardest tokens</h2>\n<table><tr><th class=\"s\">token</th><th class=\"s\">after</th><th>log p</th>"
              "<th>loss</th><th>rank</th></tr>\n", fp);
        for (int k = 0; k < n; k++) {
            fputs("<tr>", fp);
            put_tok_cell(fp, h, idx[k]);
            fprintf(fp, "<td>%.3f</td><td>%.3f</td><td>%d</td></tr>\n", a->tok[idx[k]].logp, -a->tok[idx[k]].logp,
                    a->tok[idx[k]].rank);
        }
        fputs("</table>\n", fp);
    }
    fputs("<p class=\"meta\" style=\"margin-top:20px\">Made by lmscope inspect. Loss = &minus;log p of the true token in "
          "nats; rank 1 = the model's top choice.</p>\n<div id=\"tip\"></div>\n<script>\nvar D=", fp);
    for (const char *p = data; *p; p++) {
        if (*p == '<') fputs("\\u003c", fp);
        else fputc(*p, fp);
    }
    fprintf(fp, ";\nvar B=%s;\n", h->b ? "true" : "false");
    fputs(JS, fp);
    fputs("</script>\n</body></html>\n", fp);
}

lms_status lms_tokhtml_write(const char *path, const lms_tokhtml *h, lms_err *err) {
    if (!h || !h->a || !h->text || !h->tok) return lms_errf(err, LMS_ERR_ARG, "nothing to write: no result");
    if (h->b && (!h->cmp || h->b->n != h->a->n))
        return lms_errf(err, LMS_ERR_ARG, "a second model needs its comparison on the same tokens");
    char *data = tooltip_json(h);
    if (!data) return lms_errf(err, LMS_ERR_NOMEM, "out of memory building the page data");
    lms_atomic_file f;
    if (lms_atomic_open(&f, path, err)) {
        free(data);
        return err->code;
    }
    write_page(f.fp, h, data);
    free(data);
    return lms_atomic_commit(&f, err);
}
