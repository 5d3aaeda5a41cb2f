/*
 * A scratch directory for a test program: made by the group setup, removed
 * with everything in it by the group teardown. Define
 * `static char dir[] = "/tmp/hv-name-XXXXXX";` before including this, then
 * cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown).
 */
#ifndef HV_TESTS_TMPDIR_H
#define HV_TESTS_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static int tmpdir_remove(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int tmpdir_setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int tmpdir_teardown(void **state)
{
    (void)state;
    return nftw(dir, tmpdir_remove, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
