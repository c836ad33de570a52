#ifndef RUNNEL_ALLOCATION_HOOKS_H
#define RUNNEL_ALLOCATION_HOOKS_H

/* Counts heap allocations made by the calling thread between start and stop, the way swift-nio's
 * allocation-counter tests do: the executable that links this target replaces malloc and friends
 * (glibc's own entry points do the work). Linux/glibc only. */
void runnel_allocations_start(void);
/* Returns the allocations (malloc, calloc, realloc of NULL, memalign family) since start. */
long runnel_allocations_stop(void);

#endif
