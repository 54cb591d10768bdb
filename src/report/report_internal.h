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

/* report_tasks.c: add "suites" (each suite's metrics labelled on the compute frontier: acc, logp,
 * and prob / edit where the suite has them; origin natural or controlled), "mirage" (discrete vs
 * continuous labels side by side) and "gains" (the copy task's in-context gain per run) to data,
 * which must hold "fit" already; returns the suites array (borrowed). Then append the task claims. */
json_t *lms_report_analyse_suites(json_t *data);
void lms_report_task_claims(json_t *claims, json_t *data);
/* 1 when the suite is one of the controlled tasks of data/synth.h */
int lms_report_suite_controlled(const char *suite);

/* Append {verdict, claim, evidence} to the claims array (report_analysis.c). */
void lms_report_add_claim(json_t *claims, const char *verdict, const char *claim, const char *evidence);

/* Helpers on rows. A missing, null or non-number field reads as NAN. */
double lms_report_num(const json_t *row, const char *key);
const char *lms_report_str(const json_t *row, const char *key); /* "" when missing */

#endif
