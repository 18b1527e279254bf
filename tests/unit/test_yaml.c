/* Tests for the YAML loader and its readers (src/codec/yaml.c): the tree with each node's
 * 1-based line and column, what is refused (a second document, anchors, aliases, tags,
 * duplicate keys, keys that are not scalars, nesting past the limit), libyaml's syntax errors
 * at its mark with its context, and each typed reader: what it accepts, and its whole message
 * for what it does not. */
#include <errno.h>
#include <limits.h>
#include <math.h>

#include "codec/yaml.h"
#include "t.h"

static ydoc_t doc;
static char err[512];

/* Loads a NUL-terminated text named t.yaml; 0 or -1. */
static int load(const char *text)
{
    err[0] = 0;
    return ydoc_load(&doc, "t.yaml", text, strlen(text), err, sizeof err);
}

/* ---- the tree ---- */

TEST(block_mapping_with_positions)
{
    CHECK_INT(load("name: a team\n"
                   "team:\n"
                   "  size: 8\n"
                   "  langs:\n"
                   "    - go\n"
                   "    - 'rust'\n"),
              0);
    const ynode_t *r = doc.root;
    CHECK(r && r->kind == YNODE_MAP);
    CHECK_INT(r->n, 2);
    CHECK_INT(r->line, 1);
    CHECK_INT(r->column, 1);
    CHECK_STR(r->first->text, "name");
    CHECK_STR(r->first->next->text, "team");
    const ynode_t *name = ynode_get(r, "name");
    CHECK_STR(name->text, "a team");
    CHECK_INT(name->len, 6);
    CHECK(name->plain);
    CHECK_INT(name->line, 1);
    CHECK_INT(name->column, 7);
    const ynode_t *team = ynode_get(r, "team");
    CHECK(team->kind == YNODE_MAP);
    CHECK_INT(team->line, 3);
    CHECK_INT(team->column, 3);
    const ynode_t *size = ynode_get(team, "size");
    CHECK_STR(size->text, "8");
    CHECK_INT(size->line, 3);
    CHECK_INT(size->column, 9);
    const ynode_t *langs = ynode_get(team, "langs");
    CHECK(langs->kind == YNODE_SEQ);
    CHECK_INT(langs->n, 2);
    CHECK_INT(langs->line, 5);
    CHECK_INT(langs->column, 5);
    CHECK_STR(langs->first->text, "go");
    CHECK_INT(langs->first->line, 5);
    CHECK_INT(langs->first->column, 7);
    CHECK_STR(langs->last->text, "rust");
    CHECK(!langs->last->plain);
    CHECK(langs->first->next == langs->last);
    CHECK(langs->last->next == NULL);
    ydoc_free(&doc);
}

TEST(flow_collections_start_at_their_bracket)
{
    CHECK_INT(load("types:\n  - {name: a, vcpu: 2}\n  - [1, \"two\", '']\n"), 0);
    const ynode_t *types = ynode_get(doc.root, "types");
    CHECK_INT(types->n, 2);
    const ynode_t *m = types->first, *s = types->last;
    CHECK(m->kind == YNODE_MAP);
    CHECK_INT(m->line, 2);
    CHECK_INT(m->column, 5);
    CHECK_STR(ynode_get(m, "vcpu")->text, "2");
    CHECK_INT(ynode_get(m, "vcpu")->column, 21);
    CHECK(s->kind == YNODE_SEQ);
    CHECK_INT(s->line, 3);
    CHECK_INT(s->column, 5);
    CHECK_INT(s->n, 3);
    CHECK_STR(s->first->next->text, "two");
    CHECK(!s->first->next->plain);
    CHECK_INT(s->last->len, 0);
    CHECK(!s->last->plain);
    ydoc_free(&doc);
}

TEST(ynode_get_finds_members_only)
{
    CHECK_INT(load("a: 1\nb:\nc: [x]\n"), 0);
    CHECK_STR(ynode_get(doc.root, "a")->text, "1");
    const ynode_t *b = ynode_get(doc.root, "b");
    CHECK(b && b->kind == YNODE_SCALAR && b->plain && b->len == 0);
    CHECK(ynode_get(doc.root, "d") == NULL);
    CHECK(ynode_get(ynode_get(doc.root, "c"), "x") == NULL); /* a sequence has no members */
    CHECK(ynode_get(NULL, "a") == NULL);
    ydoc_free(&doc);
}

TEST(empty_text_has_no_root)
{
    CHECK_INT(load(""), 0);
    CHECK(doc.root == NULL);
    ydoc_free(&doc);
    CHECK_INT(load("# only a comment\n\n"), 0);
    CHECK(doc.root == NULL);
    ydoc_free(&doc);
}

TEST(one_document_marked_with_dashes_is_fine)
{
    CHECK_INT(load("%YAML 1.1\n---\na: 1\n...\n"), 0);
    CHECK_STR(ynode_get(doc.root, "a")->text, "1");
    ydoc_free(&doc);
}

TEST(scalar_keeps_a_nul_and_its_length)
{
    CHECK_INT(load("a: \"x\\0y\"\n"), 0);
    const ynode_t *a = ynode_get(doc.root, "a");
    CHECK_INT(a->len, 3);
    CHECK(memcmp(a->text, "x\0y", 4) == 0);
    ydoc_free(&doc);
}

/* ---- what is refused ---- */

TEST(second_document_refused)
{
    CHECK_INT(load("a: 1\n---\na: 2\n"), -1);
    CHECK_STR(err, "t.yaml:2:1: a second document (---): one document per file");
}

TEST(anchor_refused)
{
    CHECK_INT(load("base: &b {x: 1}\n"), -1);
    CHECK_STR(err, "t.yaml:1:7: an anchor (&b): anchors and aliases are not supported");
}

TEST(alias_refused)
{
    CHECK_INT(load("a: 1\nb: *a\n"), -1);
    CHECK_STR(err, "t.yaml:2:4: an alias (*a): anchors and aliases are not supported");
}

TEST(tags_refused)
{
    CHECK_INT(load("a: !!str 5\n"), -1);
    CHECK_STR(err, "t.yaml:1:4: a tag (!!str): tags are not supported");
    CHECK_INT(load("a: !local [1]\n"), -1);
    CHECK_STR(err, "t.yaml:1:4: a tag (!local): tags are not supported");
}

TEST(duplicate_key_refused)
{
    CHECK_INT(load("a: 1\nb: 2\na: 3\n"), -1);
    CHECK_STR(err, "t.yaml:3:1: duplicate key \"a\" (first at line 1)");
    CHECK_INT(load("m: {x: 1, x: 2}\n"), -1);
    CHECK_STR(err, "t.yaml:1:11: duplicate key \"x\" (first at line 1)");
}

TEST(key_must_be_a_scalar)
{
    CHECK_INT(load("? [a, b]\n: 1\n"), -1);
    CHECK_STR(err, "t.yaml:1:3: a key must be a scalar, got a sequence");
    CHECK_INT(load("{? {a: 1} : 2}\n"), -1);
    CHECK_STR(err, "t.yaml:1:4: a key must be a scalar, got a mapping");
}

TEST(nesting_limit)
{
    char text[3 * YDOC_MAX_DEPTH + 8];
    size_t n = 0;
    for (int i = 0; i < YDOC_MAX_DEPTH; i++)
        text[n++] = '[';
    for (int i = 0; i < YDOC_MAX_DEPTH; i++)
        text[n++] = ']';
    text[n] = 0;
    CHECK_INT(load(text), 0); /* exactly the limit */
    ydoc_free(&doc);
    n = 0;
    for (int i = 0; i <= YDOC_MAX_DEPTH; i++)
        text[n++] = '[';
    text[n] = 0;
    CHECK_INT(load(text), -1);
    CHECK_STR(err, "t.yaml:1:65: nested deeper than 64 levels");
}

/* ---- libyaml's syntax errors ---- */

TEST(syntax_error_with_context)
{
    CHECK_INT(load("a: 1\nb\nc: 2\n"), -1);
    CHECK_STR(err, "t.yaml:3:1: could not find expected ':' (while scanning a simple key at 2:1)");
    CHECK_INT(load("a: [1, 2\nb: 3\n"), -1);
    CHECK_STR(err, "t.yaml:2:2: did not find expected ',' or ']' (while parsing a flow sequence "
                   "at 1:4)");
}

TEST(syntax_error_without_context)
{
    CHECK_INT(load("a: b: c\n"), -1);
    CHECK_STR(err, "t.yaml:1:5: mapping values are not allowed in this context");
}

TEST(tab_indentation_refused)
{
    CHECK_INT(load("a:\n\tb: 1\n"), -1);
    CHECK_STR(err, "t.yaml:2:1: found character that cannot start any token (while scanning for "
                   "the next token at 2:1)");
}

TEST(invalid_utf8_at_its_character)
{
    /* the column counts characters: "é" is two bytes, one column */
    CHECK_INT(load("a: 1\nb: \xc3\xa9x\xff\n"), -1);
    CHECK_STR(err, "t.yaml:2:6: invalid leading UTF-8 octet");
}

TEST(control_character_refused)
{
    CHECK_INT(load("a: 1\x01\n"), -1);
    CHECK_STR(err, "t.yaml:1:5: control characters are not allowed");
}

TEST(message_fits_a_small_buffer)
{
    char small[12];
    memset(small, 'x', sizeof small);
    CHECK_INT(ydoc_load(&doc, "t.yaml", "a: b: c\n", 8, small, sizeof small), -1);
    CHECK_STR(small, "t.yaml:1:5:");
}

/* ---- files ---- */

TEST(load_file_names_the_path)
{
    char path[] = "/tmp/test_yaml_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char text[] = "a: 1\nb: [\n";
    CHECK_INT(write(fd, text, sizeof text - 1), sizeof text - 1);
    close(fd);
    CHECK_INT(ydoc_load_file(&doc, path, err, sizeof err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s:3:1: did not find expected node content (while parsing a "
                                "flow node at 3:1)", path);
    CHECK_STR(err, want);
    unlink(path);
}

TEST(load_file_that_does_not_exist)
{
    CHECK_INT(ydoc_load_file(&doc, "/nonexistent/t.yaml", err, sizeof err), -1);
    CHECK_STR(err, "/nonexistent/t.yaml: No such file or directory");
}

TEST(load_file_that_is_a_folder)
{
    CHECK_INT(ydoc_load_file(&doc, "/tmp", err, sizeof err), -1);
    CHECK_STR(err, "/tmp: Is a directory");
}

/* ---- ydoc_keys ---- */

static const char *const known[] = {"name", "vcpu", "gib", NULL};
static const char *const required[] = {"name", "gib", NULL};

TEST(keys_known_and_required)
{
    CHECK_INT(load("t: {name: a, gib: 2}\n"), 0);
    CHECK_INT(ydoc_keys(&doc, ynode_get(doc.root, "t"), "t", known, required), 0);
    CHECK_INT(ydoc_keys(&doc, ynode_get(doc.root, "t"), "t", known, NULL), 0);
    ydoc_free(&doc);
}

TEST(keys_unknown_names_the_key_and_the_known_ones)
{
    CHECK_INT(load("t:\n  name: a\n  cpu: 2\n"), 0);
    CHECK_INT(ydoc_keys(&doc, ynode_get(doc.root, "t"), "t", known, NULL), -1);
    CHECK_STR(err, "t.yaml:3:3: t: unknown key \"cpu\" (known: name, vcpu, gib)");
    ydoc_free(&doc);
}

TEST(keys_unknown_at_the_top_has_no_path)
{
    CHECK_INT(load("name: a\nnmae: b\n"), 0);
    CHECK_INT(ydoc_keys(&doc, doc.root, "", known, NULL), -1);
    CHECK_STR(err, "t.yaml:2:1: unknown key \"nmae\" (known: name, vcpu, gib)");
    ydoc_free(&doc);
}

TEST(keys_missing_at_the_mapping)
{
    CHECK_INT(load("types:\n  - {name: a, vcpu: 2}\n"), 0);
    CHECK_INT(ydoc_keys(&doc, ynode_get(doc.root, "types")->first, "types[0]", known, required),
              -1);
    CHECK_STR(err, "t.yaml:2:5: types[0]: missing key \"gib\"");
    ydoc_free(&doc);
}

TEST(keys_of_something_else_than_a_mapping)
{
    CHECK_INT(load("t: 5\nu: [1]\n"), 0);
    CHECK_INT(ydoc_keys(&doc, ynode_get(doc.root, "t"), "t", known, NULL), -1);
    CHECK_STR(err, "t.yaml:1:4: t: expected a mapping, got \"5\"");
    CHECK_INT(ydoc_keys(&doc, ynode_get(doc.root, "u"), "u", known, NULL), -1);
    CHECK_STR(err, "t.yaml:2:4: u: expected a mapping, got a sequence");
    ydoc_free(&doc);
    CHECK_INT(load(""), 0);
    CHECK_INT(ydoc_keys(&doc, doc.root, "", known, NULL), -1);
    CHECK_STR(err, "t.yaml:1:1: expected a mapping, got nothing");
    ydoc_free(&doc);
}

/* ---- the typed readers ---- */

/* Reads member k of the top mapping of text as a double in (lo, hi]; 0 or -1. */
static int read_double(const char *text, double lo, double hi, double *out)
{
    if (load(text))
        return -2;
    int rc = ydoc_double(&doc, doc.root, "s", "k", lo, hi, out);
    ydoc_free(&doc);
    return rc;
}

TEST(double_accepts_decimal_numbers)
{
    double x = 0;
    CHECK_INT(read_double("k: 5\n", 0, HUGE_VAL, &x), 0);
    CHECK(x == 5);
    CHECK_INT(read_double("k: 0.6\n", 0, 1, &x), 0);
    CHECK(x == 0.6);
    CHECK_INT(read_double("k: 1\n", 0, 1, &x), 0); /* hi is inclusive */
    CHECK(x == 1);
    CHECK_INT(read_double("k: 1e3\n", 0, HUGE_VAL, &x), 0);
    CHECK(x == 1000);
    CHECK_INT(read_double("k: .5\n", 0, HUGE_VAL, &x), 0);
    CHECK(x == 0.5);
    CHECK_INT(read_double("k: +2.\n", 0, HUGE_VAL, &x), 0);
    CHECK(x == 2);
    CHECK_INT(read_double("k: -2.5E-1\n", -1, HUGE_VAL, &x), 0);
    CHECK(x == -0.25);
}

TEST(double_absent_leaves_the_default)
{
    double x = 0.6;
    CHECK_INT(read_double("other: 1\n", 0, 1, &x), 0);
    CHECK(x == 0.6);
}

TEST(double_refuses_what_is_not_decimal)
{
    static const char *const texts[] = {"k: fast\n", "k: 0x1F\n", "k: .inf\n", "k: .nan\n",
                                        "k: 1_000\n", "k: 1e\n", "k: .\n", "k: 1e999\n",
                                        "k: 5 ms\n"};
    static const char *const got[] = {"fast", "0x1F", ".inf", ".nan", "1_000", "1e", ".",
                                      "1e999", "5 ms"};
    for (int i = 0; i < 9; i++) {
        double x = 7;
        CHECK_INT(read_double(texts[i], 0, HUGE_VAL, &x), -1);
        char want[128];
        snprintf(want, sizeof want, "t.yaml:1:4: s.k: expected a number > 0, got \"%s\"", got[i]);
        CHECK_STR(err, want);
        CHECK(x == 7);
    }
}

TEST(double_out_of_range)
{
    double x;
    CHECK_INT(read_double("k: 0\n", 0, 1, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a number > 0 and <= 1, got \"0\"");
    CHECK_INT(read_double("k: 1.5\n", 0, 1, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a number > 0 and <= 1, got \"1.5\"");
    CHECK_INT(read_double("k: -3\n", 0, HUGE_VAL, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a number > 0, got \"-3\"");
}

TEST(double_quoted_is_a_string)
{
    double x;
    CHECK_INT(read_double("k: \"5\"\n", 0, HUGE_VAL, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a number > 0, got \"5\" (in quotes: a string, not "
                   "a number)");
    CHECK_INT(read_double("k: 'fast'\n", 0, HUGE_VAL, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a number > 0, got \"fast\"");
}

TEST(double_of_a_collection_or_nothing)
{
    double x;
    CHECK_INT(read_double("k: {a: 1}\n", 0, HUGE_VAL, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a number > 0, got a mapping");
    CHECK_INT(read_double("k:\n  - 1\n", 0, HUGE_VAL, &x), -1);
    CHECK_STR(err, "t.yaml:2:3: s.k: expected a number > 0, got a sequence");
    CHECK_INT(read_double("k:\nz: 1\n", 0, HUGE_VAL, &x), -1);
    CHECK_STR(err, "t.yaml:1:3: s.k: expected a number > 0, got nothing");
}

static int read_int(const char *text, int lo, int hi, int *out)
{
    if (load(text))
        return -2;
    int rc = ydoc_int(&doc, doc.root, "s", "k", lo, hi, out);
    ydoc_free(&doc);
    return rc;
}

TEST(int_accepts_integers_in_range)
{
    int x = 0;
    CHECK_INT(read_int("k: 3\n", 0, INT_MAX, &x), 0);
    CHECK_INT(x, 3);
    CHECK_INT(read_int("k: -7\n", -10, 10, &x), 0);
    CHECK_INT(x, -7);
    CHECK_INT(read_int("k: 2147483647\n", 0, INT_MAX, &x), 0);
    CHECK_INT(x, INT_MAX);
}

TEST(int_refuses_the_rest)
{
    int x = 5;
    CHECK_INT(read_int("k: -1\n", 0, INT_MAX, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected an integer >= 0, got \"-1\"");
    CHECK_INT(read_int("k: 3.0\n", 0, INT_MAX, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected an integer >= 0, got \"3.0\"");
    CHECK_INT(read_int("k: 2147483648\n", 0, INT_MAX, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected an integer >= 0, got \"2147483648\"");
    CHECK_INT(read_int("k: 99999999999999999999\n", 0, INT_MAX, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected an integer >= 0, got \"99999999999999999999\"");
    CHECK_INT(read_int("k: 745\n", 1, 744, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected an integer from 1 to 744, got \"745\"");
    CHECK_INT(read_int("k: '3'\n", 0, INT_MAX, &x), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected an integer >= 0, got \"3\" (in quotes: a string, "
                   "not a number)");
    CHECK_INT(x, 5);
}

static int read_bool(const char *text, bool *out)
{
    if (load(text))
        return -2;
    int rc = ydoc_bool(&doc, doc.root, "", "k", out);
    ydoc_free(&doc);
    return rc;
}

TEST(bool_is_true_or_false_only)
{
    bool b = false;
    CHECK_INT(read_bool("k: true\n", &b), 0);
    CHECK(b);
    CHECK_INT(read_bool("k: false\n", &b), 0);
    CHECK(!b);
    /* YAML 1.1's other spellings are strings, as in YAML 1.2 */
    static const char *const others[] = {"yes", "no", "on", "off", "True", "FALSE", "y", "1"};
    for (int i = 0; i < 8; i++) {
        char text[32], want[128];
        snprintf(text, sizeof text, "k: %s\n", others[i]);
        snprintf(want, sizeof want, "t.yaml:1:4: k: expected true or false, got \"%s\"",
                 others[i]);
        CHECK_INT(read_bool(text, &b), -1);
        CHECK_STR(err, want);
    }
    CHECK_INT(read_bool("k: \"true\"\n", &b), -1);
    CHECK_STR(err, "t.yaml:1:4: k: expected true or false, got \"true\" (in quotes: a string, "
                   "not a boolean)");
}

static int read_str(const char *text, char *out, size_t cap)
{
    if (load(text))
        return -2;
    int rc = ydoc_str(&doc, doc.root, "s", "k", out, cap);
    ydoc_free(&doc);
    return rc;
}

TEST(str_takes_any_scalar)
{
    char s[32] = "";
    CHECK_INT(read_str("k: c7i.xlarge\n", s, sizeof s), 0);
    CHECK_STR(s, "c7i.xlarge");
    CHECK_INT(read_str("k: 42\n", s, sizeof s), 0);
    CHECK_STR(s, "42");
    CHECK_INT(read_str("k: \"a: b\"\n", s, sizeof s), 0);
    CHECK_STR(s, "a: b");
    CHECK_INT(read_str("k: 2025-01-15\n", s, sizeof s), 0);
    CHECK_STR(s, "2025-01-15");
    CHECK_INT(read_str("k: équipe\n", s, sizeof s), 0);
    CHECK_STR(s, "équipe");
}

TEST(str_refusals)
{
    char s[8] = "keep";
    CHECK_INT(read_str("k: abcdefgh\n", s, sizeof s), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a string of at most 7 bytes, got 8");
    CHECK_INT(read_str("k:\n", s, sizeof s), -1);
    CHECK_STR(err, "t.yaml:1:3: s.k: expected a string, got nothing");
    CHECK_INT(read_str("k: ''\n", s, sizeof s), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a string, got \"\"");
    CHECK_INT(read_str("k: [a]\n", s, sizeof s), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a string, got a sequence");
    CHECK_INT(read_str("k: \"a\\nb\"\n", s, sizeof s), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a string without control characters, got \"a?b\"");
    CHECK_INT(read_str("k: \"a\\0b\"\n", s, sizeof s), -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a string without control characters, got \"a?b\"");
    CHECK_STR(s, "keep");
}

TEST(long_value_cut_in_the_message)
{
    double x;
    CHECK_INT(read_double("k: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ\n", 0, HUGE_VAL, &x),
              -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a number > 0, got "
                   "\"abcdefghijklmnopqrstuvwxyz0123456789ABCD\"...");
    /* never in the middle of a character: 39 bytes, then a two-byte "é" across the 40th */
    CHECK_INT(read_double("k: abcdefghijklmnopqrstuvwxyz0123456789ABC\xc3\xa9xyz\n", 0,
                          HUGE_VAL, &x),
              -1);
    CHECK_STR(err, "t.yaml:1:4: s.k: expected a number > 0, got "
                   "\"abcdefghijklmnopqrstuvwxyz0123456789ABC\"...");
}

static const char *const levels[] = {"none", "junior", "mid", "senior"};

TEST(enum_gives_the_index)
{
    int v = -1;
    CHECK_INT(load("k: mid\n"), 0);
    CHECK_INT(ydoc_enum(&doc, doc.root, "team", "k", levels, 4, &v), 0);
    CHECK_INT(v, 2);
    v = 9;
    CHECK_INT(ydoc_enum(&doc, doc.root, "team", "absent", levels, 4, &v), 0);
    CHECK_INT(v, 9);
    ydoc_free(&doc);
}

TEST(enum_lists_the_names)
{
    int v = -1;
    CHECK_INT(load("k: expert\n"), 0);
    CHECK_INT(ydoc_enum(&doc, doc.root, "team", "k", levels, 4, &v), -1);
    CHECK_STR(err, "t.yaml:1:4: team.k: expected none, junior, mid or senior, got \"expert\"");
    CHECK_INT(ydoc_enum(&doc, doc.root, "team", "k", levels, 2, &v), -1);
    CHECK_STR(err, "t.yaml:1:4: team.k: expected none or junior, got \"expert\"");
    CHECK_INT(v, -1);
    ydoc_free(&doc);
}

TEST(seq_reader)
{
    const ynode_t *s = (const ynode_t *)&doc;
    CHECK_INT(load("k: [1, 2]\nm: {a: 1}\n"), 0);
    CHECK_INT(ydoc_seq(&doc, doc.root, "", "k", &s), 0);
    CHECK(s && s->n == 2);
    CHECK_INT(ydoc_seq(&doc, doc.root, "", "absent", &s), 0);
    CHECK(s == NULL);
    CHECK_INT(ydoc_seq(&doc, doc.root, "", "m", &s), -1);
    CHECK_STR(err, "t.yaml:2:4: m: expected a sequence, got a mapping");
    ydoc_free(&doc);
}

TEST(fail_and_expected_for_the_callers)
{
    CHECK_INT(load("a:\n  b: 3\n"), 0);
    const ynode_t *b = ynode_get(ynode_get(doc.root, "a"), "b");
    CHECK_INT(ydoc_fail(&doc, b, "a.b: %d is odd", 3), -1);
    CHECK_STR(err, "t.yaml:2:6: a.b: 3 is odd");
    CHECK_INT(ydoc_fail(&doc, NULL, "at the top"), -1);
    CHECK_STR(err, "t.yaml:1:1: at the top");
    CHECK_INT(ydoc_expected(&doc, b, "a.b", "an even number"), -1);
    CHECK_STR(err, "t.yaml:2:6: a.b: expected an even number, got \"3\"");
    ydoc_free(&doc);
}

T_MAIN(T(block_mapping_with_positions), T(flow_collections_start_at_their_bracket),
       T(ynode_get_finds_members_only), T(empty_text_has_no_root),
       T(one_document_marked_with_dashes_is_fine), T(scalar_keeps_a_nul_and_its_length),
       T(second_document_refused), T(anchor_refused), T(alias_refused), T(tags_refused),
       T(duplicate_key_refused), T(key_must_be_a_scalar), T(nesting_limit),
       T(syntax_error_with_context), T(syntax_error_without_context), T(tab_indentation_refused),
       T(invalid_utf8_at_its_character), T(control_character_refused),
       T(message_fits_a_small_buffer), T(load_file_names_the_path),
       T(load_file_that_does_not_exist), T(load_file_that_is_a_folder),
       T(keys_known_and_required), T(keys_unknown_names_the_key_and_the_known_ones),
       T(keys_unknown_at_the_top_has_no_path), T(keys_missing_at_the_mapping),
       T(keys_of_something_else_than_a_mapping), T(double_accepts_decimal_numbers),
       T(double_absent_leaves_the_default), T(double_refuses_what_is_not_decimal),
       T(double_out_of_range), T(double_quoted_is_a_string), T(double_of_a_collection_or_nothing),
       T(int_accepts_integers_in_range), T(int_refuses_the_rest), T(bool_is_true_or_false_only),
       T(str_takes_any_scalar), T(str_refusals), T(long_value_cut_in_the_message),
       T(enum_gives_the_index), T(enum_lists_the_names), T(seq_reader),
       T(fail_and_expected_for_the_callers))
