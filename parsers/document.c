/*
 * document - freeing what the parsers built (see document.h).
 */
#include <stdlib.h>

#include "document.h"

void document_free(struct document *doc)
{
	if (doc == NULL)
		return;
	free(doc->attestations);
	for (size_t i = 0; doc->sheet.participants && i < doc->sheet.n_participants; i++)
		free(doc->sheet.participants[i].identity.scan);
	free(doc->sheet.participants);
	free(doc);
}
