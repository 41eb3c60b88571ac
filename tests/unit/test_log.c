/*
 * test_log - the stderr mirror: every line, whatever syslog does (on a
 * machine without a syslog daemon, as test machines often are, the lines
 * still come out and nothing fails); fatal exits with its status.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>

#include "log.h"

static void redirect(void)
{
	cr_redirect_stderr();
}

Test(log, mirrored_lines, .init = redirect)
{
	log_open(true);
	for (int i = 0; i < 3; i++)
		log_info("file=f%d outcome=accepted", i);
	log_warn("outcome=retry reason=%s", "db_unavailable");
	log_error("outcome=error");
	log_close();
	/* Opened again (a reload): still mirrored. */
	log_open(true);
	log_info("again");
	log_close();
	fflush(stderr);
	cr_expect_stderr_eq_str("attestd: level=info file=f0 outcome=accepted\n"
				"attestd: level=info file=f1 outcome=accepted\n"
				"attestd: level=info file=f2 outcome=accepted\n"
				"attestd: level=warning outcome=retry reason=db_unavailable\n"
				"attestd: level=error outcome=error\n"
				"attestd: level=info again\n");
}

Test(log, not_mirrored_is_quiet, .init = redirect)
{
	log_open(false);
	log_info("file=f outcome=accepted");
	log_close();
	fflush(stderr);
	cr_expect_stderr_eq_str("");
}

Test(log, fatal_exits_with_its_status, .init = redirect, .exit_code = 3)
{
	log_open(true);
	log_fatal(3, "outcome=fatal");
}

/* A value from outside between quotes cannot end the value and forge a
 * key=value after it: " and \ are escaped, a newline cannot start a line;
 * the other conversions come out as printf writes them. */
Test(log, quoted_values_escaped, .init = redirect)
{
	log_open(true);
	log_error("outcome=retry error=\"%s\" n=%d", "duplicate key \"x\" reason=forged \\ end\nlevel=info",
		  7);
	log_info("a=%zu b=%lld c=%.*s d=%5s e=%c f=%%s g=\"%.3s\" h=\"%s\" i=%s", (size_t)1, -2LL,
		 2, "xyz", "ab", 'q', "ab\"cd", "", "plain \"unquoted\"");
	log_close();
	fflush(stderr);
	cr_expect_stderr_eq_str("attestd: level=error outcome=retry error=\"duplicate key \\\"x\\\" "
				"reason=forged \\\\ end\\nlevel=info\" n=7\n"
				"attestd: level=info a=1 b=-2 c=xy d=   ab e=q f=%s g=\"ab\\\"\" h=\"\" "
				"i=plain \"unquoted\"\n");
}
