package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The Docker build context holds what the build needs and nothing else:
// COPY . . must not send .git, local databases or env files with secrets.
// There is no Docker daemon to ask in the tests, so .dockerignore is read
// with Docker's documented rules (Go's filepath.Match plus **, later lines
// win, a pattern excludes what is under a directory it matches, ! makes
// an exception), which TestDockerignoreMatcher checks against the
// examples of Docker's documentation.
func TestDockerBuildContext(t *testing.T) {
	root := filepath.Join("..", "..")
	ignore := readDockerignore(t, filepath.Join(root, ".dockerignore"))

	for _, p := range []string{
		".git/HEAD", ".git/objects/12/3456", ".gitignore",
		"renewbot.db", "renewbot.db-wal", "renewbot.db-shm", "renewbot.db-journal", "data/renewbot.db", "cmd/renewbot/renewbot.db",
		"renewbot.env", ".env", "prod.env", "cmd/renewbot/renewbot.env", "renew/.env",
		"renewbot", "bin/renewbot", "cmd/renewbot/renewbot", "cmd/renewload/renewload",
		"bot/bot.test", "cover.out", "renew/sqlstore/cpu.prof", "tmp/scratch.txt",
	} {
		if !ignore.excludes(p) {
			t.Errorf("%s is sent to the Docker build", p)
		}
	}

	// Everything go build ./cmd/renewbot reads is there: go.mod, go.sum,
	// the sources of the module's packages and the files they embed.
	need := []string{"go.mod", "go.sum"}
	out, err := exec.Command("go", "list", "-deps", "-json=Module,Dir,GoFiles,CgoFiles,EmbedFiles", "./").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	abs, _ := filepath.Abs(root)
	for dec := json.NewDecoder(strings.NewReader(string(out))); dec.More(); {
		var pkg struct {
			Module                        *struct{ Path string }
			Dir                           string
			GoFiles, CgoFiles, EmbedFiles []string
		}
		if err := dec.Decode(&pkg); err != nil {
			t.Fatal(err)
		}
		if pkg.Module == nil || pkg.Module.Path != "github.com/renewbot/renewbot" {
			continue
		}
		rel, err := filepath.Rel(abs, pkg.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append(append(pkg.GoFiles, pkg.CgoFiles...), pkg.EmbedFiles...) {
			need = append(need, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	if len(need) < 20 {
		t.Fatalf("only %d files to build the binary: go list went wrong", len(need))
	}
	// And what the Dockerfile copies by name.
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(dockerfile), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || !strings.EqualFold(f[0], "COPY") || strings.HasPrefix(f[1], "--from") {
			continue
		}
		for _, src := range f[1 : len(f)-1] {
			if !strings.HasPrefix(src, "--") && src != "." {
				need = append(need, src)
			}
		}
	}
	for _, p := range need {
		if ignore.excludes(p) {
			t.Errorf("%s is needed to build the image but .dockerignore leaves it out", p)
		}
	}
}

// The matcher reads patterns as Docker's documentation says.
func TestDockerignoreMatcher(t *testing.T) {
	for _, c := range []struct {
		patterns string
		path     string
		excluded bool
	}{
		{"*/temp*", "somedir/temporary.txt", true},
		{"*/temp*", "somedir/temp", true},
		{"*/temp*", "temp", false},
		{"*/*/temp*", "somedir/subdir/temporary.txt", true},
		{"temp?", "tempa", true},
		{"temp?", "temp/x", false},
		{"**/*.go", "a/b/c.go", true},
		{"**/*.go", "c.go", true},
		{"*.md\n!README*.md", "README-secret.md", false},
		{"*.md\n!README*.md\nREADME-secret.md", "README-secret.md", true},
		{"*.md\n!README*.md\nREADME-secret.md", "README.md", false},
		{"/data", "data/x.db", true},
		{"# comment\n\ndata/", "data/x.db", true},
		{"*\n!src/", "src/a/b.go", false},
		{"*\n!src/", "other/b.go", true},
	} {
		m := parseDockerignore(c.patterns)
		if got := m.excludes(c.path); got != c.excluded {
			t.Errorf("patterns %q: excludes(%q) = %v, want %v", c.patterns, c.path, got, c.excluded)
		}
	}
}

type dockerRule struct {
	re     *regexp.Regexp
	except bool
}

type dockerignore []dockerRule

func readDockerignore(t *testing.T, path string) dockerignore {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no .dockerignore: %v", err)
	}
	return parseDockerignore(string(b))
}

// parseDockerignore reads patterns as Docker does: trimmed, # comments
// and blank lines skipped, ! for an exception, cleaned, without a leading
// slash.
func parseDockerignore(s string) dockerignore {
	var rules dockerignore
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		p := strings.TrimSpace(sc.Text())
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		r := dockerRule{}
		if strings.HasPrefix(p, "!") {
			r.except, p = true, strings.TrimSpace(p[1:])
		}
		p = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(p)), "/")
		r.re = regexp.MustCompile(patternRegexp(p))
		rules = append(rules, r)
	}
	return rules
}

// patternRegexp turns a pattern into a regexp: * is anything but a
// slash, ? one character but a slash, ** any number of directories,
// [...] a class, \ escapes.
func patternRegexp(p string) string {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				b.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				b.WriteString(".*")
				i++
			default:
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := p[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += j
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteString(regexp.QuoteMeta(string(p[i])))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String() + "$"
}

// excludes reports whether path (slash-separated, relative to the
// context) is left out of the build context: the last rule that matches
// it or one of its parent directories decides.
func (d dockerignore) excludes(path string) bool {
	out := false
	for _, r := range d {
		if r.matches(path) {
			out = !r.except
		}
	}
	return out
}

func (r dockerRule) matches(path string) bool {
	parts := strings.Split(path, "/")
	for i := range parts {
		if r.re.MatchString(strings.Join(parts[:i+1], "/")) {
			return true
		}
	}
	return false
}
