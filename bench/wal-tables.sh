#!/usr/bin/env bash
# The WAL frames (pages) a command writes into a local store, per table: what an index costs in bytes
# written, which CPU time on a shared machine is too noisy to show. Needs strace, perl and sqlite3 (with
# the dbstat table). Usage, from the repository:
#   bench/wal-tables.sh /tmp/s.db node bin/run.js produce p -K : -b file:/tmp/s.db < lines
# Each frame's 24-byte header names its page; the pages are mapped to tables with dbstat on the store
# once the command is done (pages keep their table: spool never vacuums). "commits" counts the frames
# that end a transaction (a non-zero database size in the header).
set -euo pipefail
store=$1
shift
trace=$(mktemp)
trap 'rm -f "$trace" "$trace.pages"' EXIT
strace -f -y -xx -s 8 -o "$trace" -e trace=pwrite64 "$@" >/dev/null
sqlite3 "$store" 'SELECT pageno, name FROM dbstat' >"$trace.pages"
perl -e '
  my %table;
  open(my $pages, "<", $ARGV[1]) or die;
  while (<$pages>) { chomp; my ($page, $name) = split /\|/; $table{$page} = $name }
  open(my $trace, "<", $ARGV[0]) or die;
  my (%frames, $total, $commits);
  while (<$trace>) {
    next unless /pwrite64\(\d+<([^>]*)>[^,]*, "([^"]*)"(?:\.\.\.)?, (\d+), \d+\)/;
    my ($path, $data, $size) = ($1, $2, $3);
    $path =~ s/\\x([0-9a-f]{2})/chr(hex $1)/ge;
    next unless $path =~ /-wal$/ && $size == 24;
    $data =~ s/\\x([0-9a-f]{2})/chr(hex $1)/ge;
    my ($page, $commit) = unpack("NN", $data);
    $frames{$table{$page} // "(freed)"}++;
    $total++;
    $commits++ if $commit;
  }
  printf "%-28s %d\n", $_, $frames{$_} for sort { $frames{$b} <=> $frames{$a} } keys %frames;
  printf "%-28s %d\n%-28s %d\n", "WAL frames", $total, "commits", $commits;
' "$trace" "$trace.pages"
