/*
 * test_names - the folding of rules.md §4 on French (and not only French)
 * names.  Strings are written with \u escapes where the character matters,
 * so an editor's normalisation cannot change what is tested.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

struct fold_row {
	char in[64];
	char want[64];
};

/* One case of names::fold (issue 12: the cases share one process). */
static void names_fold_case(struct fold_row *row)
{
	char *got = names_fold(row->in);
	cr_assert_not_null(got, "\"%s\"", row->in);
	cr_expect_str_eq(got, row->want, "\"%s\"", row->in);
	/* Folding is idempotent. */
	char *again = names_fold(got);
	cr_expect_str_eq(again, got, "\"%s\": folding \"%s\" again gives \"%s\"", row->in, got,
			 again);

	free(again);
	free(got);
}

Test(names, fold)
{
	static struct fold_row rows[] = {
		{ "Martin", "MARTIN" },
		{ "  martin  ", "MARTIN" },
		{ "\u00C9lodie", "ELODIE" },			/* É precomposed */
		{ "E\u0301lodie", "ELODIE" },			/* É decomposed */
		{ "\u00E9lo\u00EFse", "ELOISE" },		/* éloïse */
		{ "Fran\u00E7ois", "FRANCOIS" },		/* ç */
		{ "FRAN\u00C7OIS", "FRANCOIS" },		/* Ç */
		{ "Ga\u00EBlle", "GAELLE" },
		{ "No\u00EBl", "NOEL" },
		{ "J\u00E9r\u00F4me", "JEROME" },
		{ "\u00C0 la Fontaine", "A LA FONTAINE" },
		{ "Jean-Pierre", "JEAN PIERRE" },
		{ "Jean\u2010Pierre", "JEAN PIERRE" },		/* U+2010 hyphen */
		{ "Jean\u2011Pierre", "JEAN PIERRE" },		/* non-breaking hyphen */
		{ "Jean\u2013Pierre", "JEAN PIERRE" },		/* en dash */
		{ "Jean\u2014Pierre", "JEAN PIERRE" },		/* em dash */
		{ "Jean \u2013 Pierre", "JEAN PIERRE" },
		{ "Jean--Pierre", "JEAN PIERRE" },
		{ "-Jean-", "JEAN" },
		{ "D'Artagnan", "D ARTAGNAN" },
		{ "D\u2019Artagnan", "D ARTAGNAN" },		/* ’ */
		{ "D\u2018Artagnan", "D ARTAGNAN" },		/* ‘ */
		{ "D\u02BCArtagnan", "D ARTAGNAN" },		/* ʼ modifier apostrophe */
		{ "D\uFF07Artagnan", "D ARTAGNAN" },		/* fullwidth, NFKD to ' */
		{ "d' Estaing", "D ESTAING" },
		{ "de  la   Tour", "DE LA TOUR" },
		{ "de\u00A0la\u202FTour", "DE LA TOUR" },	/* no-break spaces */
		{ "de\tla Tour", "DE LA TOUR" },
		{ "L\u00E9a-Ma\u00EBl", "LEA MAEL" },
		{ "\uFB01lippi", "FILIPPI" },			/* ﬁ ligature (NFKD) */
		{ "Stra\u00DFer", "STRASSER" },			/* ß: full upper case */
		{ "\u00AAna", "ANA" },				/* ª: NFKD before case */
		{ "\u0152uvrard", "\u0152UVRARD" },		/* Œ: no decomposition */
		{ "c\u0153ur", "C\u0152UR" },
		{ "\u00C6lis", "\u00C6LIS" },
		{ "\u00D8stergaard", "\u00D8STERGAARD" },	/* Ø stays */
		{ "Nguy\u1EC5n", "NGUYEN" },			/* ễ: two marks */
		{ "\u0130brahim", "IBRAHIM" },			/* İ dotted capital I */
		{ "\u015Eahin", "SAHIN" },			/* Ş cedilla */
		{ "M\u00FCller", "MULLER" },
		{ "\u0391\u03B8\u03AE\u03BD\u03B1", "\u0391\u0398\u0397\u039D\u0391" }, /* Αθήνα */
		{ "''--''", "" },
		{ "", "" },
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		names_fold_case(&rows[k]);
}

struct pair_row {
	char a[64];
	char b[64];
	bool surname;		/* names_same_surname(a, b) */
	bool first_given;	/* names_same_first_given(a, b) */
};

/* One case of names::compare (issue 12: the cases share one process). */
static void names_compare_case(struct pair_row *row)
{
	cr_expect_eq(names_same_surname(row->a, row->b), row->surname,
		     "surname \"%s\" / \"%s\"", row->a, row->b);
	cr_expect_eq(names_same_surname(row->b, row->a), row->surname,
		     "surname \"%s\" / \"%s\": not symmetric", row->a, row->b);
	cr_expect_eq(names_same_first_given(row->a, row->b), row->first_given,
		     "first given \"%s\" / \"%s\"", row->a, row->b);
	cr_expect_eq(names_same_first_given(row->b, row->a), row->first_given,
		     "first given \"%s\" / \"%s\": not symmetric", row->a, row->b);

}

Test(names, compare)
{
	static struct pair_row rows[] = {
		{ "MARTIN", "Martin", true, true },
		{ "H\u00C9BERT", "Hebert", true, true },
		{ "LE B\u00C9CHEC", "Le-Bechec", true, true },
		{ "Marie-Claire", "Marie", false, true },
		{ "Marie-Claire", "Marie Claire", true, true },
		{ "Marie Claire", "Claire Marie", false, false },
		{ "Jean-Pierre Andr\u00E9", "JEAN", false, true },
		{ "Jean", "Jeanne", false, false },
		{ "N'Diaye", "NDIAYE", false, false },		/* apostrophe is a word break */
		{ "N\u2019DIAYE", "n'diaye", true, true },
		{ "D'ALMEIDA", "D ALMEIDA", true, true },
		{ "\u0152uvrard", "OEUVRARD", false, false },	/* spec folding: Œ is not OE */
		{ "\u0152uvrard", "\u0153UVRARD", true, true },
		{ "Ren\u00E9e", "Renee", true, true },
		{ "Ren\u00E9e", "Rene", false, false },
		{ "  Paul ", "PAUL", true, true },
		{ "Jos\u00E9 Mar\u00EDa", "Jose", false, true },
		{ "Chlo\u00E9", "Chlo\u00EB", true, true },
		{ "", "", false, false },			/* nothing never matches */
		{ "-", "'", false, false },
		{ "O'", "O", true, true },
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		names_compare_case(&rows[k]);
}

Test(names, first_given)
{
	char *g = names_first_given("  Anne-Sophie Marie");
	cr_expect_str_eq(g, "ANNE");
	free(g);
	g = names_first_given("\u00C9milie");
	cr_expect_str_eq(g, "EMILIE");
	free(g);
	cr_expect_null(names_first_given(" - "));
	cr_expect_null(names_first_given(NULL));
}

/* Bytes that are not UTF-8 never match, not even the same bytes. */
Test(names, invalid_utf8_never_matches)
{
	static const char *bad[] = {
		"MART\xC3N",		/* truncated sequence */
		"\xC0\xA0",		/* overlong space */
		"\xED\xA0\x80",		/* UTF-16 surrogate */
		"\xF4\x90\x80\x80",	/* past U+10FFFF */
		"Ren\xE9" "e",		/* Latin-1 é */
		"\xFF",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_null(names_fold(bad[i]), "bad[%zu]", i);
		cr_expect_null(names_first_given(bad[i]));
		cr_expect(!names_same_surname(bad[i], bad[i]), "bad[%zu] matches itself", i);
		cr_expect(!names_same_first_given(bad[i], bad[i]));
		cr_expect(!names_same_surname(bad[i], "RENEE"));
		cr_expect(!names_same_surname("RENEE", bad[i]));
	}
	cr_expect(!names_same_surname(NULL, NULL));
	cr_expect(!names_same_first_given(NULL, "X"));
	cr_expect_null(names_fold(NULL));
}
