/* deps: how many dependencies an implementation has, directly and in all, read from what its
 * build reads or makes rather than asked of a tool (no network, no module graph to resolve):
 *
 * - Go: direct, the require lines of go.mod without `// indirect`; total, the distinct module
 *   paths of go.sum (a module's `/go.mod` line and its source line count once). go.sum also
 *   holds the modules of the dependencies' tests and of the module graph, so the total is what
 *   a fresh clone verifies, more than what the binary links (go.mod's require lines);
 * - Rust: direct, the entries of Cargo.toml's [dependencies] (and of [dependencies.NAME] and
 *   target-specific dependency tables; not dev- or build-dependencies); total, Cargo.lock's
 *   packages minus the root package (every platform's and the dev-dependencies' included:
 *   what `--locked` pins);
 * - C: direct, the shared libraries the binary names (its DT_NEEDED entries); total, every
 *   library `ldd` resolves for it, the dynamic loader included and the kernel's vDSO not.
 *
 * The text parsers take a file's contents; each returns the count, or -1 when the text is not
 * what it should be (no [[package]] in a Cargo.lock). */
#ifndef SB_LAB_DEPS_H
#define SB_LAB_DEPS_H

#include <stddef.h>

/* What each count means, for results.json's deps.from. */
extern const char deps_from_go[], deps_from_rust[], deps_from_c[];

int deps_go_mod_direct(const char *text, size_t len);
int deps_go_sum_total(const char *text, size_t len);
int deps_cargo_toml_direct(const char *text, size_t len);
/* The root is the package called root (Cargo.toml's [package] name). */
int deps_cargo_lock_total(const char *text, size_t len, const char *root);
/* The [package] name of a Cargo.toml into out ("" when none). */
void deps_cargo_toml_name(const char *text, size_t len, char *out, size_t n);

/* From the files: go.mod and go.sum, or Cargo.toml and Cargo.lock, in dir; an ELF binary and
 * `ldd` of it. 0 with both counts, or -1 with the reason in err. */
int deps_go(const char *dir, int *direct, int *total, char *err, size_t errlen);
int deps_rust(const char *dir, int *direct, int *total, char *err, size_t errlen);
int deps_c(const char *binary, int *direct, int *total, char *err, size_t errlen);

#endif
