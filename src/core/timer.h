/* timer.h — monotonic wall-clock time in seconds, for throughput and ETA. */
#ifndef LMS_CORE_TIMER_H
#define LMS_CORE_TIMER_H

double lms_now(void); /* seconds since an arbitrary fixed point (CLOCK_MONOTONIC) */

#endif
