/* report_internal.h — the pieces of the report, shared between its files (not a public header).
 *
 * report_data.c reads the database into one JSON object (the page's data); report_analysis.c adds
 * the fits, the suites' shapes and the claims to it; report.c writes the page.
 */
#ifndef LMS_REPORT_INTERNAL_H
#define LMS_REPORT_INTERNAL_H

#include <jansson.h>

#include "report/report.h"

/* Open path read-only, check meta.schema_version and the tables, and return a new JSON object
 * with the arrays meta, runs, metrics, domains, evals, samples, tokens (rows as objects keyed by
 * column name; see report_data.c for the columns). *out is NULL on failure. */
lms_status lms_report_read_db(const char *path, int max_token_rows, json_t **out, lms_err *err);

/* Add "fit", "suites" and "claims" to data (and per-run "frontier"/"group" flags); fill sum's
 * counts. Never fails on thin data: a fit that cannot be done is recorded with the reason. */
lms_status lms_report_analyse(json_t *data, const lms_report_opts *o, lms_report_summary *sum, lms_err *err);

/* Helpers on rows. A missing, null or non-number field reads as NAN. */
double lms_report_num(const json_t *row, const char *key);
const char *lms_report_str(const json_t *row, const char *key); /* "" when missing */

#endif
