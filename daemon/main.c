/*
 * main - the attestd command line: a table of subcommands, each a thin
 * layer over the modules.  Exit codes (interfaces.md): 0 success, 1 some
 * input invalid, 2 usage, 3 bad configuration, 4 database unreachable or
 * schema too old, 5 internal error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define EXIT_INVALID	1
#define EXIT_USAGE	2

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{ "help", cmd_help, "attestd help [COMMAND]", "show the commands, or one command's usage" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage_overview(FILE *out)
{
	fprintf(out, "usage: attestd COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-44s %s\n", commands[i].usage, commands[i].summary);
	fprintf(out, "  %-44s %s\n", "attestd --version", "print the version");
	fprintf(out, "\nEvery command accepts --config F (default /etc/attestd/attestd.conf).\n");
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 2) {
		fprintf(stderr, "attestd: usage: attestd help [COMMAND]\n");
		return EXIT_USAGE;
	}
	if (argc == 2) {
		const struct command *c = command_find(argv[1]);
		if (c == NULL) {
			fprintf(stderr, "attestd: unknown command '%s'; try 'attestd help'\n", argv[1]);
			return EXIT_USAGE;
		}
		printf("usage: %s\n  %s\n", c->usage, c->summary);
		return EXIT_SUCCESS;
	}
	usage_overview(stdout);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "attestd: missing command; try 'attestd help'\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("attestd %s\n", ATTESTD_VERSION);
		return EXIT_SUCCESS;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv + 1);
	const struct command *c = command_find(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "attestd: unknown command '%s'; try 'attestd help'\n", argv[1]);
		return EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
