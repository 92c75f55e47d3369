"""The Rails task reader: whether `bin/rails <task>` migrates, read from lib/tasks/*.rake and Rakefile."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flyconf.assemble import load_app
from flyconf.databases import rake
from flyconf.databases.model import Context
from flyconf.migrations import migration_in
from flyconf.sources.base import Document
from tests.conftest import CORPUS, needs_shared
from tests.databases.helpers import app_at, write_app

FLY = """
app = "journal"
primary_region = "ord"

[deploy]
  release_command = "bin/rails fly:release"

[http_service]
  internal_port = 8080
"""

DOCKERFILE = """
FROM ruby:3.3-slim
ENV RAILS_ENV=production
WORKDIR /rails
COPY . .
CMD ["bin/rails", "fly:server"]
"""

# The shape dockerfile-rails and flyctl's Rails scanner generated (written for these tests).
FLY_RAKE = """
# commands used to deploy a Rails application
namespace :fly do
  # BUILD step:
  #  - changes to the filesystem made here DO get deployed
  task :build => 'assets:precompile'

  # RELEASE step:
  #  - full access to secrets, databases
  task :release => 'db:migrate'

  # SERVER step:
  task :server => :swapfile do
    sh 'bin/rails server'
  end

  # optional SWAPFILE task
  task :swapfile do
    sh 'fallocate -l 512M /swapfile'
    sh 'chmod 0600 /swapfile'
    sh 'mkswap /swapfile'
    sh 'echo 10 > /proc/sys/vm/swappiness'
    sh 'swapon /swapfile'
  end
end
"""


def ctx_of(tmp_path: Path, rake_text: str, rel: str = "lib/tasks/fly.rake", extra: dict[str, str] | None = None
           ) -> Context:
    files = {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "Gemfile": 'gem "rails"\n', rel: rake_text}
    files.update(extra or {})
    return app_at(write_app(tmp_path, files)).context


def where(ctx: Context, task: str) -> tuple[str, int, int] | None:
    loc = rake.where_migrates(ctx, task)
    if loc is None:
        return None
    return loc.doc.display_path.replace("\\", "/").rsplit("/", 1)[-1], loc.span.line, loc.span.column


def test_generated_fly_rake(tmp_path: Path) -> None:
    ctx = ctx_of(tmp_path, FLY_RAKE)
    assert rake.task_migrates(ctx, "fly:release") is True
    assert where(ctx, "fly:release") == ("fly.rake", 9, 20)
    assert rake.where_migrates(ctx, "fly:release").span.end_column == 32  # type: ignore[union-attr]
    assert rake.task_migrates(ctx, "fly:build") is False  # assets:precompile does not migrate
    assert rake.task_migrates(ctx, "fly:server") is False  # bin/rails server, after the swapfile commands
    assert rake.task_migrates(ctx, "fly:swapfile") is False
    assert where(ctx, "fly:server") is None
    assert {name: (loc.span.line, loc.span.column) for name, loc in rake.migrating_tasks(ctx).items()} == {
        "fly:release": (9, 20)}


@pytest.mark.parametrize(("line", "column"), [
    ('task release: "db:migrate"', 17),
    ("task release: %w[db:migrate]", 20),
    ('task release: [:environment, "db:prepare"]', 32),
    ('task "release" => :"db:setup"', 21),
    ('task :release, [:force] => ["db:migrate:primary"]', 31),
    ('task(:release => "db:schema:load")', 20),
    ('task :release, [:force], needs: ["db:prepare:cache"]', 36),
])
def test_prerequisite_forms(tmp_path: Path, line: str, column: int) -> None:
    ctx = ctx_of(tmp_path, f"namespace :fly do\n  {line}\nend\n")
    assert rake.task_migrates(ctx, "fly:release") is True
    assert where(ctx, "fly:release") == ("fly.rake", 2, column)


@pytest.mark.parametrize("body", [
    "task :release",
    "task :release do\nend",
    "task release: :environment do\n  puts 'nothing to do'\nend",
    'task release: "db:migrate:status"',
    'task release: ["db:seed", "assets:clean"]',
])
def test_tasks_that_provably_do_not_migrate(tmp_path: Path, body: str) -> None:
    ctx = ctx_of(tmp_path, f"namespace :fly do\n{body}\nend\n")
    assert rake.task_migrates(ctx, "fly:release") is False
    assert where(ctx, "fly:release") is None


def test_following_our_own_prerequisites_in_the_namespace(tmp_path: Path) -> None:
    text = """
    namespace :fly do
      task :release => :migrate

      task :migrate => [:environment, :check] do
        Rake::Task["db:prepare"].invoke
      end

      task :check do
        $stdout.sync = true
      end
    end
    """
    ctx = ctx_of(tmp_path, text)
    # `:migrate` inside namespace fly is fly:migrate (Rake looks in the enclosing namespace first)
    assert rake.task_migrates(ctx, "fly:release") is True
    assert where(ctx, "fly:release") == ("fly.rake", 5, 5)
    assert rake.task_migrates(ctx, "fly:check") is False


def test_a_task_defined_twice_gets_both_definitions(tmp_path: Path) -> None:
    text = "namespace :fly do\n  task :release\nend\n"
    more = "namespace :fly do\n  task release: 'db:migrate'\nend\n"
    ctx = ctx_of(tmp_path, text, extra={"lib/tasks/more/release.rake": more})
    assert rake.task_migrates(ctx, "fly:release") is True
    assert where(ctx, "fly:release") == ("release.rake", 2, 17)


@pytest.mark.parametrize(("statement", "column"), [
    ('sh "bin/rails db:migrate"', 5),
    ('sh("./bin/rails", "db:prepare")', 5),
    ('system "bundle exec rake db:migrate RAILS_ENV=production"', 5),
    ("`bin/rails db:migrate`", 5),
    ("%x(bin/rails db:migrate)", 5),
    ('sh "bin/rails db:migrate RAILS_ENV=#{ENV.fetch("RAILS_ENV", "production")}"', 5),
    ('Rake::Task["db:migrate"].invoke', 5),
    ("Rake::Task[:'db:migrate'].execute", 5),
    ("ActiveRecord::Tasks::DatabaseTasks.migrate", 5),
    ("ActiveRecord::Base.connection_pool.migration_context.migrate", 5),
    ('sh "bin/rails fly:sub"', 5),
    ('system("bin/rails db:migrate") || abort("the migration failed")', 5),
    ('Kernel.system("bin/rails", "db:migrate", exception: true)', 5),
    ('sh "bin/rails db:migrate", verbose: false do |ok, _status|\n      abort unless ok\n    end', 5),
])
def test_bodies_that_migrate(tmp_path: Path, statement: str, column: int) -> None:
    text = f"namespace :fly do\n  task :release => :environment do\n    {statement}\n  end\n\n" \
           "  task :sub => 'db:migrate'\nend\n"
    ctx = ctx_of(tmp_path, text)
    assert rake.task_migrates(ctx, "fly:release") is True
    expected = ("fly.rake", 6, 16) if "fly:sub" in statement else ("fly.rake", 3, column)
    assert where(ctx, "fly:release") == expected


def test_heredoc_command(tmp_path: Path) -> None:
    text = """
    task :release do
      sh <<~SH
        bin/rails db:migrate
      SH
    end
    """
    ctx = ctx_of(tmp_path, text, rel="Rakefile")
    assert rake.task_migrates(ctx, "release") is True
    assert where(ctx, "release") == ("Rakefile", 2, 3)


def test_enhanced_builtin(tmp_path: Path) -> None:
    text = 'Rake::Task["assets:precompile"].enhance(["db:migrate"])\n\nnamespace :fly do\n' \
           '  task build: "assets:precompile"\nend\n'
    ctx = ctx_of(tmp_path, text)
    assert rake.task_migrates(ctx, "fly:build") is True
    assert where(ctx, "fly:build") == ("fly.rake", 1, 42)


@pytest.mark.parametrize(("body", "why"), [
    ('task release: "solid_queue:setup"', "not defined"),  # a gem's task: not read
    ("task :release do\n  Deploy::Release.run!\nend", "code flyconf does not evaluate"),
    ('task :release do\n  sh "bin/rails db:migrate" if ENV["MIGRATE"]\nend', "only under a condition"),
    ('task :release do\n  if ENV["MIGRATE"]\n    Rake::Task["db:migrate"].invoke\n  end\nend',
     "only under a condition"),
    ('task :release do\n  sh "bin/rails #{ENV["TASK"]}"\nend', "computed at run time"),
    ('task :release do\n  Rake::Task[name].invoke\nend', "computed at run time"),
    ('task :release do\n  sh "./script/release.sh"\nend', "does not follow"),
    ("task release: :again\ntask again: :release", "depends on itself"),
    ("task release: deps", "computed"),
])
def test_cannot_be_told(tmp_path: Path, body: str, why: str) -> None:
    ctx = ctx_of(tmp_path, f"namespace :fly do\n{body}\nend\n")
    verdict = rake.explain(ctx, "fly:release")
    assert verdict.migrates is None
    assert why in verdict.why
    assert where(ctx, "fly:release") is None


def test_conditional_migration_points_at_where_it_is(tmp_path: Path) -> None:
    ctx = ctx_of(tmp_path, 'task :release do\n  sh "bin/rails db:migrate" if ENV["MIGRATE"]\nend\n')
    verdict = rake.explain(ctx, "release")
    assert verdict.migrates is None and verdict.at is not None
    assert (verdict.at.span.line, verdict.at.span.column) == (2, 3)


def test_unknown_task_and_builtins(tmp_path: Path) -> None:
    ctx = ctx_of(tmp_path, FLY_RAKE)
    assert rake.task_migrates(ctx, "fly:deploy") is None
    assert rake.task_migrates(ctx, "db:migrate") is True
    assert rake.task_migrates(ctx, "db:prepare:primary") is True
    assert rake.task_migrates(ctx, "db:migrate:status") is False
    assert rake.task_migrates(ctx, "assets:precompile") is False


def test_no_rake_files(tmp_path: Path) -> None:
    ctx = app_at(write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE})).context
    assert rake.task_migrates(ctx, "fly:release") is None
    assert rake.migrating_tasks(ctx) == {}


def test_release_command_running_the_task_is_a_migration(tmp_path: Path) -> None:
    root = write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "Gemfile": 'gem "rails"\n',
                                "lib/tasks/fly.rake": FLY_RAKE})
    app = app_at(root)
    found = migration_in("bin/rails fly:release", app)
    assert found is not None
    assert (found.tool, found.text) == ("rails", "fly:release")
    assert found.via.endswith("lib/tasks/fly.rake:9:20)")
    assert migration_in("bin/rails fly:server", app) is None


def test_tokens() -> None:
    text = ('task release: %w[db:migrate x] # note\n=begin\ntask :no\n=end\nsh "a #{b} c", :"d:e", '
            "'f'\nx = <<~EOS\n  body\nEOS\n")
    toks = [(t.kind, t.value) for t in rake.tokens(text) if t.kind != "nl"]
    assert toks[:3] == [("ident", "task"), ("label", "release"), ("words", None)]
    assert ("ident", "no") not in toks
    assert ("str", "a \0 c") in toks and ("sym", "d:e") in toks and ("str", "f") in toks
    assert ("str", "  body\n") in toks
    regex = [(t.kind, t.text) for t in rake.tokens('x = name =~ /"db:(migrate)/i ? 1 : a / 2\n')]
    assert ("str", '/"db:(migrate)/i') in regex and ("op", "/") in regex
    words = next(t for t in rake.tokens(text) if t.kind == "words")
    assert [w for w, _s, _e in words.items] == ["db:migrate", "x"]


@needs_shared(CORPUS)
def test_every_corpus_rake_file_reads_and_the_generated_release_tasks_migrate() -> None:
    apps = sorted(CORPUS.glob("*/fly*.toml")) + sorted(CORPUS.glob("*/*/fly*.toml"))
    assert apps
    with_tasks = 0
    for toml in apps:
        loaded, _findings = load_app(toml)
        if loaded is None:
            continue
        ctx = loaded.context
        rake.migrating_tasks(ctx)
        if ctx.exists("lib/tasks/fly.rake"):
            with_tasks += 1
            assert rake.task_migrates(ctx, "fly:release") is True
            assert rake.task_migrates(ctx, "fly:server") is False
    assert with_tasks >= 8


RUBY_WORDS = ["namespace", ":fly", "do", "end", "task", ":release", "=>", "'db:migrate'", "release:", "%w[db:migrate]",
              "[", "]", "(", ")", "{", "}", ",", "\n", "sh", '"bin/rails db:migrate"', "if", "unless", "x", "|t|",
              "Rake::Task[", '"db:prepare"', "].invoke", "<<~EOS", "EOS", "#", "`", '"#{', "=begin", "=end", "%",
              "?", ":", "::", ".", "begin", "while", "case", "when", "def", "&.", "$stdout", "@x", "1_000", "'",
              '"']


@settings(max_examples=300)
@given(st.lists(st.sampled_from(RUBY_WORDS), max_size=60))
def test_rake_noise_never_raises(words: list[str]) -> None:
    text = " ".join(words)
    for tok in rake.tokens(text):
        assert 0 <= tok.start <= tok.end <= len(text)
    ctx = FakeContext({"Rakefile": text})
    for name in ("fly:release", "release", "db:migrate"):
        assert rake.task_migrates(ctx, name) in (True, False, None)  # type: ignore[arg-type]
    rake.migrating_tasks(ctx)  # type: ignore[arg-type]


class FakeContext:
    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read(self, rel: str) -> Document | None:
        text = self.files.get(rel)
        return Document(display_path=rel, text=text) if text is not None else None

    def glob(self, pattern: str) -> list[str]:
        return []
