#include "core/embed.h"

#include <string.h>

const embed_file_t *embed_find(const char *dir, const char *name)
{
    for (size_t i = 0; dir && name && i < embed_nfiles; i++)
        if (strcmp(embed_files[i].dir, dir) == 0 && strcmp(embed_files[i].name, name) == 0)
            return &embed_files[i];
    return NULL;
}
