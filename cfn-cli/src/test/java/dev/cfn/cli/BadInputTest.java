package dev.cfn.cli;

import static dev.cfn.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.crypto.Keyring;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Every command and subcommand given bad input: a missing file, a folder where a file belongs, a
 * garbage file, an empty string, negative and zero numbers, unknown names and unknown flags. Each
 * must exit non-zero with exactly one line on standard error, {@code cfn <command>: ...}, and no
 * stack trace anywhere; the commands that start JVMs (bench, chaos) must refuse before starting
 * one, which the per-case timeout enforces.
 *
 * <p>In the cases, MISSING is a path that does not exist, DIR a folder, GARBAGE a file of text,
 * BINARY a file of bytes that are not UTF-8, J a real journal, M a real memory file, C a real
 * cassette and AGENTS a folder with one valid agent named {@code helper}; {@code ''} is the empty
 * string.
 */
class BadInputTest {
  @TempDir static Path tmp;

  static final List<String> CASES =
      List.of(
          "--bogus",
          "nosuch",
          "help nosuch",
          // agent
          "agent",
          "agent nosuch",
          "agent list MISSING",
          "agent list ''",
          "agent list GARBAGE",
          "agent list --agents ''",
          "agent list --bogus",
          "agent show helper --agents MISSING",
          "agent show helper --agents ''",
          "agent show helper --dir ''",
          "agent show nosuch --agents AGENTS",
          "agent show",
          "agent validate MISSING",
          "agent validate ''",
          "agent validate GARBAGE",
          "agent validate BINARY",
          "agent fix",
          "agent fix ''",
          "agent fix MISSING",
          "agent fix GARBAGE",
          "agent fix --bogus",
          // audit
          "audit",
          "audit nosuch",
          "audit verify --home MISSING",
          "audit verify --home GARBAGE",
          "audit verify --home ''",
          "audit verify --home DIR",
          "audit verify --home AUDITBAD",
          "audit verify --home AUDITBAD --json",
          "audit verify --home AUDITOK --public-key MISSING",
          "audit verify --home AUDITOK --public-key GARBAGE",
          "audit verify --home AUDITOK --public-key DIR",
          "audit verify --bogus",
          "audit tail --home MISSING",
          "audit tail --home DIR",
          "audit tail --home AUDITBAD",
          "audit tail -n 0 --home AUDITOK",
          "audit tail -n -1 --home AUDITOK",
          "audit tail -n abc --home AUDITOK",
          "audit tail --follow -n 0 --home AUDITOK",
          "audit tail --bogus",
          // bench (checked before the benchmark JVM starts)
          "bench",
          "bench nosuch",
          "bench bus --only nosuch",
          "bench bus --only ''",
          "bench bus --rate 0",
          "bench bus --rate -1",
          "bench bus --rate abc",
          "bench bus --agents -5",
          "bench bus --agents 0",
          "bench bus --only scale --agents -5",
          "bench bus --json DIR",
          "bench bus --json ''",
          "bench bus --bogus",
          "bench reliable --senders 0",
          "bench reliable --senders -1",
          "bench reliable --senders 1,x",
          "bench reliable --rates -1",
          "bench reliable --dir GARBAGE",
          "bench reliable --dir ''",
          "bench reliable --json DIR",
          "bench reliable --bogus",
          "bench agents --only nosuch",
          "bench agents --only ''",
          "bench agents --only cfn-agent,nosuch",
          "bench agents --json DIR",
          "bench agents --json ''",
          "bench agents --json GARBAGE/out.json",
          "bench agents --concurrency 0",
          "bench agents --concurrency -1",
          "bench agents --concurrency 1,x",
          "bench agents --concurrency 5000",
          "bench agents --runs 0",
          "bench agents --runs abc",
          "bench agents --quick --bogus",
          "bench flow --json DIR",
          "bench flow --json ''",
          "bench flow --json GARBAGE/out.json",
          "bench flow --bogus",
          "bench flow --quick extra",
          // certify (checked before any check runs)
          "certify --profile nosuch",
          "certify --profile ''",
          "certify --targets MISSING",
          "certify --targets DIR",
          "certify --targets GARBAGE",
          "certify --targets BINARY",
          "certify --targets ''",
          "certify --check nosuch",
          "certify --check latency,nosuch",
          "certify --check ''",
          "certify --out GARBAGE",
          "certify --work GARBAGE",
          "certify --json ''",
          "certify --json DIR",
          "certify --bogus",
          // chaos (checked before any worker JVM starts)
          "chaos",
          "chaos nosuch",
          "chaos crash --kills -1",
          "chaos crash --chains 0",
          "chaos crash --chains -3",
          "chaos crash --min-ms -1",
          "chaos crash --min-ms 10 --max-ms 5",
          "chaos crash --dir GARBAGE",
          "chaos crash --dir ''",
          "chaos crash --json DIR",
          "chaos crash --json ''",
          "chaos crash --kills many",
          "chaos crash --bogus",
          "chaos cluster --kills -1",
          "chaos cluster --kills many",
          "chaos cluster --faults bogus",
          "chaos cluster --faults node,bogus",
          "chaos cluster --faults ''",
          "chaos cluster --nodes 1",
          "chaos cluster --nodes 9",
          "chaos cluster --rate 0",
          "chaos cluster --rate 100001",
          "chaos cluster --partitions 0",
          "chaos cluster --partitions 4097",
          "chaos cluster --ttl-ms 10",
          "chaos cluster --partition-ms 5",
          "chaos cluster --min-ms -1",
          "chaos cluster --min-ms 10 --max-ms 5",
          "chaos cluster --dir GARBAGE",
          "chaos cluster --dir ''",
          "chaos cluster --json DIR",
          "chaos cluster --bogus",
          "chaos graph --kills -1",
          "chaos graph --kills many",
          "chaos graph --width 0",
          "chaos graph --width 10001",
          "chaos graph --min-ms -1",
          "chaos graph --min-ms 10 --max-ms 5",
          "chaos graph --dir GARBAGE",
          "chaos graph --dir ''",
          "chaos graph --json DIR",
          "chaos graph --bogus",
          "chaos loop --kills -1",
          "chaos loop --kills many",
          "chaos loop --reply-ms -1",
          "chaos loop --reply-ms 100000",
          "chaos loop --min-ms -1",
          "chaos loop --min-ms 10 --max-ms 5",
          "chaos loop --dir GARBAGE",
          "chaos loop --dir ''",
          "chaos loop --json DIR",
          "chaos loop --bogus",
          // dlq
          "dlq",
          "dlq list --journal MISSING",
          "dlq list --journal DIR",
          "dlq list --journal ''",
          "dlq list --db ''",
          "dlq list --journal GARBAGE",
          "dlq show 99 --journal J",
          "dlq show 0 --journal J",
          "dlq show -1 --journal J",
          "dlq show abc --journal J",
          "dlq replay 99 --journal J",
          "dlq replay --journal J",
          "dlq purge --journal J",
          "dlq purge 99 --journal J",
          "dlq purge 1 --all --journal J",
          // mcp (refused before the server starts reading standard input)
          "mcp",
          "mcp nosuch",
          "mcp serve --home MISSING",
          "mcp serve --home GARBAGE",
          "mcp serve --home ''",
          "mcp serve --agents MISSING",
          "mcp serve --agents ''",
          "mcp serve --allow everything",
          "mcp serve --allow run,,memory-write",
          "mcp serve --allow ''",
          "mcp serve --as nobody",
          "mcp serve --as @operator/1",
          "mcp serve --as ''",
          "mcp serve --swarm ''",
          "mcp serve --project ''",
          "mcp serve --bogus",
          // keys
          "keys",
          "keys nosuch",
          "keys init --home MISSING",
          "keys init --home GARBAGE",
          "keys init --home KEYED",
          "keys init --bogus",
          "keys list --home MISSING",
          "keys list --home DIR",
          "keys list --home BADKEYS",
          "keys list --home OPENKEYS",
          "keys list --bogus",
          "keys rotate --home DIR",
          "keys rotate --home BADKEYS",
          "keys rotate --home ''",
          "keys rotate --bogus",
          "keys seal-existing --home MISSING",
          "keys seal-existing --home DIR",
          "keys seal-existing --home ''",
          "keys seal-existing --bogus",
          // loop
          "loop",
          "loop nosuch",
          "loop run",
          "loop run ''",
          "loop run task",
          "loop run task --implementer a --validator b --owner c",
          "loop run task --implementer a --validator b --validator c --owner d --gate 1.5",
          "loop run task --implementer a --validator b --validator c --owner d --gate abc",
          "loop run task --implementer a --validator b --validator c --owner d --threshold -0.1",
          "loop run task --implementer a --validator b --validator c --owner d --quorum 0",
          "loop run task --implementer a --validator b --validator c --owner d --quorum 3",
          "loop run task --implementer a --validator b --validator c --owner d --max-implementations 0",
          "loop run task --implementer a --validator b --validator c --owner d --max-validations 101",
          "loop run task --implementer a --validator b --validator c --owner d --call-timeout 0",
          "loop run task --implementer a --validator b --validator c --owner d --timeout -1s",
          "loop run task --implementer a --validator b --validator c --owner d --id ''",
          "loop run task --implementer a --validator b --validator c --owner d --agents AGENTS",
          "loop run task --implementer a --validator b --validator c --owner d --agents MISSING",
          "loop run task --implementer helper --validator helper --validator helper --owner helper --agents AGENTS --journal DIR",
          "loop run task --implementer helper --validator helper --validator helper --owner helper --agents AGENTS --calls DIR",
          "loop run task --implementer helper --validator helper --validator helper --owner helper --agents AGENTS --replay MISSING",
          "loop run task --implementer helper --validator helper --validator helper --owner helper --agents AGENTS --hooks BADHOOKS",
          "loop run task --implementer helper --validator helper --validator helper --owner helper --agents AGENTS --project BADPROJECT",
          "loop run task --implementer helper --validator helper --validator helper --owner helper --agents AGENTS --replay GARBAGE",
          "loop run --resume nosuch --journal J",
          "loop run --resume x task --journal J",
          "loop run --resume '' --journal J",
          "loop status --journal MISSING",
          "loop status --journal GARBAGE",
          "loop status --journal DIR",
          "loop status nosuch --journal J",
          "loop status '' --journal J",
          "loop status --bogus",
          "loop show",
          "loop show nosuch --journal J",
          "loop show x --journal MISSING",
          "loop show '' --journal J",
          "loop decide",
          "loop decide x --journal J",
          "loop decide x --proceed --abort --journal J",
          "loop decide nosuch --proceed --journal J",
          "loop decide x --defer --journal GARBAGE",
          "loop replay",
          "loop replay nosuch --journal J --calls M",
          "loop replay x --task y --journal J --calls M",
          "loop replay x --from 2 --task '' --journal J --calls M",
          "loop replay x --journal J --calls MISSING",
          "loop replay x --journal MISSING --calls M",
          // memory
          "memory",
          "memory get k --memory MISSING",
          "memory get k --memory DIR",
          "memory get k --memory ''",
          "memory get k --db ''",
          "memory get k --memory GARBAGE",
          "memory get nosuch --memory M",
          "memory get k --as noslash --memory M",
          "memory get k --as / --memory M",
          "memory put k v --memory GARBAGE",
          "memory put k v --memory DIR",
          "memory put k v --ttl P999999999999D --memory M",
          "memory put k v --ttl 0s --memory M",
          "memory put k v --ttl soon --memory M",
          "memory put k v --level nosuch --memory M",
          "memory search x --limit 0 --memory M",
          "memory search x --limit -1 --memory M",
          "memory delete nosuch --memory M",
          "memory list --limit 0 --memory M",
          "memory list --limit abc --memory M",
          "memory list --bogus",
          // init
          "init --dir GARBAGE",
          "init --dir ''",
          "init --bogus",
          "init --dir INITED",
          // run
          "run",
          "run helper",
          "run helper task --agents MISSING",
          "run helper task --agents ''",
          "run nosuch task --agents AGENTS",
          "run helper task --agents AGENTS --timeout 10",
          "run helper task --agents AGENTS --timeout 0s",
          "run helper task --agents AGENTS --max-cost abc",
          "run helper task --agents AGENTS --max-cost -1",
          "run helper task --agents AGENTS --max-calls 0",
          "run helper task --agents AGENTS --max-tokens -5",
          "run helper task --agents AGENTS --memory DIR",
          "run helper task --agents AGENTS --memory ''",
          "run helper task --agents AGENTS --project MISSING",
          "run helper task --agents AGENTS --workspace GARBAGE",
          "run helper task --agents AGENTS --stream --json",
          "run helper task --agents AGENTS --project DIR",
          "run helper task --agents AGENTS --bogus",
          // store, backup, restore
          "store",
          "store nosuch",
          "store check --journal MISSING",
          "store check --journal DIR",
          "store check --journal ''",
          "store check --db ''",
          "store check --journal GARBAGE",
          "store check --journal J --memory GARBAGE",
          "store check --journal J --calls GARBAGE",
          "store check --journal J --memory J",
          "store check --journal J --memory MISSING",
          "store check --journal J --memory ''",
          "store check --journal J --calls DIR",
          "store check --journal J --tokens GARBAGE",
          "store check --journal J --tokens J",
          "store check --journal J --tokens MISSING",
          "store check --journal J --tokens ''",
          "store check --journal J --tokens DIR",
          "store quarantine",
          "store quarantine nosuch",
          "store quarantine list --journal MISSING",
          "store quarantine list --journal DIR",
          "store quarantine list --journal ''",
          "store quarantine list --journal GARBAGE",
          "store quarantine list --bogus",
          "store quarantine show 99 --journal J",
          "store quarantine show 0 --journal J",
          "store quarantine show -1 --journal J",
          "store quarantine show abc --journal J",
          "store quarantine show --journal J",
          "store quarantine purge 99 --journal J",
          "store quarantine purge 0 --journal J",
          "store quarantine purge --journal J",
          "store quarantine purge 1 --journal MISSING",
          "backup",
          "backup --bogus",
          "backup --to ''",
          "backup --to OUT --journal MISSING",
          "backup --to OUT --journal ''",
          "backup --journal J --to DIR",
          "restore",
          "restore --from MISSING",
          "restore --from ''",
          "restore --from DIR",
          "restore --from GARBAGE --journal NEW",
          "restore --from J --journal DIR",
          // status
          "status --journal DIR",
          "status --journal GARBAGE",
          "status --bogus",
          // swarm
          "swarm",
          "swarm nosuch",
          "swarm run",
          "swarm run ''",
          "swarm run go --agents AGENTS",
          "swarm run go --agents MISSING",
          "swarm run go --agents AGENTS --supervisor nosuch",
          "swarm run go --agents AGENTS --supervisor helper",
          "swarm run go --agents AGENTS --topology cube",
          "swarm run go --agents AGENTS --strategy random",
          "swarm run go --agents AGENTS --max-agents 0",
          "swarm run go --agents AGENTS --max-turns 0",
          "swarm run go --agents AGENTS --max-turns 5000",
          "swarm run go --agents AGENTS --budget-usd -1",
          "swarm run go --agents AGENTS --timeout 0s",
          "swarm run go --agents AGENTS --replay MISSING",
          "swarm run go --agents AGENTS --project MISSING",
          "swarm run go --agents SWARM --replay C --budget-usd 1",
          "swarm run go --agents AGENTS --id a.b",
          "swarm run go --agents AGENTS --id x --calls DIR",
          "swarm run --resume nosuch --calls M",
          "swarm run --resume x go",
          "swarm run --resume ''",
          "swarm run go --agents SWARM --prices MISSING",
          "swarm run go --agents SWARM --prices GARBAGE",
          "swarm run go --agents SWARM --prices BINARY",
          "swarm run go --agents SWARM --prices DIR",
          "swarm run go --agents SWARM --replay C --hooks BADHOOKS",
          "swarm run go --agents SWARM --replay C --hooks MISSING",
          "swarm run go --agents SWARM --replay C --hooks DIR",
          "swarm run go --agents SWARM --replay C --project BADPROJECT",
          // task
          "task",
          "task nosuch",
          "task submit",
          "task submit MISSING",
          "task submit DIR",
          "task submit ''",
          "task submit GARBAGE --agents AGENTS",
          "task submit BINARY --agents AGENTS",
          "task submit CYCLE --agents AGENTS",
          "task submit NOAGENT --agents AGENTS",
          "task submit GRAPH --agents AGENTS --run a.b",
          "task submit GRAPH --agents AGENTS --budget-usd 0",
          "task submit GRAPH --agents AGENTS --max-calls 0",
          "task submit GRAPH --agents AGENTS --timeout 0s",
          "task submit GRAPH --agents AGENTS --journal DIR",
          "task submit GRAPH --agents AGENTS --replay GARBAGE",
          "task submit GRAPH --agents AGENTS --prices GARBAGE",
          "task submit SWARMGRAPH --agents SWARM --replay C --budget-usd 1",
          "task submit BADSWARM --agents AGENTS",
          "task submit SWARMAGENT --agents AGENTS",
          "task submit SWARMNOCAP --agents AGENTS",
          "task submit SWARMGRAPH --agents SWARM --replay C --hooks BADHOOKS",
          "task submit SWARMGRAPH --agents SWARM --replay C --project BADPROJECT --trust-hooks",
          "task resume",
          "task resume a.b",
          "task resume nosuch --journal J",
          "task status",
          "task status nosuch --journal J",
          "task status a.b --journal J",
          "task cancel",
          "task cancel nosuch --journal J",
          "task cancel a.b/c --journal J",
          // testkit
          "testkit",
          "testkit nosuch",
          "testkit serve",
          "testkit serve --cassette MISSING",
          "testkit serve --cassette GARBAGE",
          "testkit serve --cassette DIR",
          "testkit serve --cassette ''",
          "testkit serve --cassette C --for 10",
          "testkit serve --cassette C --for 0s",
          "testkit serve --cassette C --requests 0",
          "testkit serve --cassette C --port -1",
          "testkit serve --cassette C --port 70000",
          "testkit record --upstream http://127.0.0.1:9 --cassette DIR",
          "testkit record --upstream nourl --cassette OUT",
          "testkit record --upstream http://127.0.0.1:9 --cassette ''",
          "testkit record --cassette OUT",
          // serve (refused before any store is opened or port bound)
          "serve --port -1",
          "serve --port 70000",
          "serve --port abc",
          "serve --home MISSING",
          "serve --home GARBAGE",
          "serve --home ''",
          "serve --bind ''",
          "serve --bogus",
          "serve --cluster MISSING",
          "serve --cluster GARBAGE",
          "serve --cluster BINARY",
          "serve --cluster DIR",
          "serve --cluster ''",
          "serve --cluster SUBSCRIBED",
          "serve --cluster BADSUBS",
          // token
          "token",
          "token nosuch",
          "token create",
          "token create --role nosuch --home DIR",
          "token create --role '' --home DIR",
          "token create --role admin --scope bad --home DIR",
          "token create --role admin --scope nosuch:x --home DIR",
          "token create --role admin --expires 0s --home DIR",
          "token create --role admin --expires -1d --home DIR",
          "token create --role admin --expires 99999d --home DIR",
          "token create --role admin --home MISSING",
          "token create --role admin --home GARBAGE",
          "token list --home MISSING",
          "token list --home DIR",
          "token list --bogus",
          "token check --home MISSING",
          "token check --home GARBAGE",
          "token check --home DIR",
          "token check --bogus",
          "token revoke",
          "token revoke nosuch --home DIR",
          "token revoke tok_000000000000 --home DIR",
          // alerts
          "alerts",
          "alerts nosuch",
          "alerts list --home MISSING",
          "alerts list --home GARBAGE",
          "alerts list --home BADALERTS",
          "alerts history --limit -1 --home DIR",
          "alerts history --home MISSING",
          "alerts test --home DIR",
          "alerts test --rule nosuch --home HOOKED",
          "alerts export --home DIR",
          "alerts export --prometheus --home BADALERTS",
          "serve --home BADALERTS --port 0 --insecure-http",
          // --server on the operator commands (refused before any connection)
          "dlq list --token-file GARBAGE",
          "dlq list --server ftp://x",
          "dlq list --server https://127.0.0.1:9/v1",
          "dlq show 1 --server https://127.0.0.1:9 --token-file MISSING",
          "dlq purge --all --server https://127.0.0.1:9 --token-file GARBAGE",
          "dlq replay 1 --server https://127.0.0.1:9 --journal J",
          "memory get k --server https://127.0.0.1:9 --as a/b",
          "memory list --fingerprint 12",
          "store check --server https://127.0.0.1:9 --memory M",
          "store check --server https://127.0.0.1:9 --tokens M",
          "backup --to OUT --server http://127.0.0.1:9 --fingerprint 12 --token-file GARBAGE",
          "loop run task --implementer a --validator b --validator c --owner d --server ftp://x",
          "loop run task --implementer a --validator b --validator c --owner d --server https://127.0.0.1:9 --agents AGENTS",
          "loop run task --implementer a --validator b --validator c --owner d --server https://127.0.0.1:9 --journal J",
          "loop run task --implementer a --validator b --validator c --owner d --server https://127.0.0.1:9 --token-file MISSING",
          "loop run task --implementer a --validator b --validator c --owner d --gate 2 --server https://127.0.0.1:9 --token-file GARBAGE",
          "loop status --server https://127.0.0.1:9 --journal J",
          "loop show x --server ftp://x",
          "loop decide x --proceed --server https://127.0.0.1:9 --calls M",
          "task submit GRAPH --server ftp://x",
          "task submit GRAPH --server https://127.0.0.1:9 --agents AGENTS",
          "task submit GRAPH --server https://127.0.0.1:9 --token-file MISSING",
          "task submit MISSING --server https://127.0.0.1:9",
          "task resume x --server https://127.0.0.1:9 --budget-usd 1",
          "task status x --server https://127.0.0.1:9 --journal J",
          "task status a.b --server https://127.0.0.1:9 --token-file GARBAGE",
          "task cancel a.b --server https://127.0.0.1:9",
          "task cancel x --fingerprint 12",
          "swarm status",
          "swarm status bad/name --server https://127.0.0.1:9",
          "swarm status team --server ftp://x",
          "swarm create team --topology blob --server https://127.0.0.1:9",
          "swarm create team --member nokey --server https://127.0.0.1:9",
          "swarm create team",
          "swarm join team echo/1",
          "swarm join team nokey --server https://127.0.0.1:9",
          "swarm join team",
          "swarm leave team echo/1",
          "swarm leave bad/name echo/1 --server https://127.0.0.1:9",
          "swarm leave team echo/1 --server https://127.0.0.1:9 --token-file MISSING",
          // bench server
          "bench server --rate 0",
          "bench server --json DIR",
          // bench cluster (checked before any server or node starts)
          "bench cluster --kills -1",
          "bench cluster --kills abc",
          "bench cluster --messages 0",
          "bench cluster --messages -5",
          "bench cluster --json DIR",
          "bench cluster --json ''",
          "bench cluster --bogus",
          // encryption at rest: files sealed under a keyring that is gone
          "memory get k --memory SEALEDM",
          "memory put k v --memory SEALEDM",
          "dlq list --journal SEALEDJ",
          "store check --journal SEALEDJ --memory SEALEDM",
          "bench reliable --encrypted --senders 0",
          // rollout
          "rollout",
          "rollout nosuch",
          "rollout start",
          "rollout start helper --home DIR",
          "rollout start Bad_Name --to HELPER2 --agents AGENTS --home DIR",
          "rollout start helper --to MISSING --agents AGENTS --home DIR",
          "rollout start helper --to GARBAGE --agents AGENTS --home DIR",
          "rollout start helper --to HELPER2 --agents MISSING --home DIR",
          "rollout start nosuch --to HELPER2 --agents AGENTS --home DIR",
          "rollout start helper --to HELPER2 --steps 5,25 --agents AGENTS --home DIR",
          "rollout start helper --to HELPER2 --steps 50,5,100 --agents AGENTS --home DIR",
          "rollout start helper --to HELPER2 --steps 0,100 --agents AGENTS --home DIR",
          "rollout start helper --to HELPER2 --steps x --agents AGENTS --home DIR",
          "rollout start helper --to HELPER2 --hold 10 --agents AGENTS --home DIR",
          "rollout start helper --to HELPER2 --min-tasks 0 --agents AGENTS --home DIR",
          "rollout start helper --to HELPER2 --agents AGENTS --home MISSING",
          "rollout status nosuch --home DIR",
          "rollout status --home MISSING",
          "rollout status Bad_Name --home DIR",
          "rollout promote",
          "rollout promote nosuch --home DIR",
          "rollout rollback nosuch --home DIR",
          "rollout rollback helper --reason '' --home DIR",
          // dr
          "dr",
          "dr nosuch",
          "dr backup --home MISSING",
          "dr backup --home DIR",
          "dr backup --include-keys --home MISSING",
          "dr restore --home DIR",
          "dr restore --from MISSING --home DIR",
          "dr restore --from DIR --home DIR",
          "dr restore --from GARBAGE --home DIR",
          "dr restore --keys-only --from DIR --home DIR",
          "dr drill --backup-every 10ms",
          "dr drill --backup-every x",
          "dr drill --backups 0",
          "dr drill --json DIR",
          "dr drill --rpo-target 0s",
          "dr drill --rto-target 0ms",
          // doctor
          "doctor",
          "doctor --nats-monitor ''",
          "doctor --nats-monitor nats://127.0.0.1:4222",
          "doctor --nats http://127.0.0.1:8222",
          "doctor --nats ''",
          "doctor --namespace Bad_NS --nats nats://127.0.0.1:9",
          "doctor --nats-monitor http://127.0.0.1:9",
          "doctor --nats nats://127.0.0.1:9",
          "doctor --bogus",
          // serve's backups
          "serve --backup-every 10ms",
          "serve --backup-keep 0",
          "serve --backup-dir DIR",
          // client certificates (mTLS)
          "cert",
          "cert nosuch",
          "cert issue --out NEW",
          "cert issue --role nosuch --out NEW --home DIR",
          "cert issue --role admin --scope bad --out NEW --home DIR",
          "cert issue --role admin --expires 0s --out NEW --home DIR",
          "cert issue --role admin --expires 99999d --out NEW --home DIR",
          "cert issue --role admin --out GARBAGE --home DIR",
          "cert issue --role admin --out DIR --home DIR",
          "cert issue --role admin --out GARBAGE/x.pem --home DIR",
          "cert issue --role admin --name '' --out NEW --home DIR",
          "cert issue --role admin --out NEW --home MISSING",
          "cert trust MISSING --role admin --home DIR",
          "cert trust GARBAGE --role admin --home DIR",
          "cert trust BINARY --role admin --home DIR",
          "cert trust DIR --role admin --home DIR",
          "cert trust GARBAGE --role nosuch --home DIR",
          "cert list --home MISSING",
          "cert list --bogus",
          "cert revoke",
          "cert revoke nosuch --home DIR",
          "cert revoke tok_000000000000 --home DIR",
          "serve --client-certs --insecure-http",
          "dlq list --client-cert GARBAGE",
          "dlq list --server https://127.0.0.1:9 --fingerprint 12 --client-cert MISSING",
          "dlq list --server https://127.0.0.1:9 --client-cert GARBAGE",
          "dlq list --server http://127.0.0.1:9 --client-cert GARBAGE");

  @BeforeAll
  static void files() throws Exception {
    Files.writeString(tmp.resolve("GARBAGE"), "garbage\nnot what anybody expects\n");
    // bytes that are not UTF-8 (nor ASCII), where a text file is expected
    Files.write(tmp.resolve("BINARY"), new byte[] {'a', '\n', (byte) 0xFF, (byte) 0xFE, 0, 'x'});
    Files.createDirectories(tmp.resolve("DIR"));
    Files.createDirectories(tmp.resolve("BADALERTS/.cfn"));
    Files.writeString(
        tmp.resolve("BADALERTS/.cfn/alerts.yaml"),
        "rules:\n  - {name: r, metric: cfn_up, op: '=', threshold: 1}\n");
    Files.createDirectories(tmp.resolve("HOOKED/.cfn"));
    Files.writeString(
        tmp.resolve("HOOKED/.cfn/alerts.yaml"),
        "webhook: {url: 'http://127.0.0.1:9/hook'}\n"
            + "rules:\n  - {name: r, metric: cfn_up, op: '<', threshold: 1}\n");
    // cluster files: a subscription of a type the server does not run, a bad topic pattern
    String cluster =
        "node: a\nnats:\n  urls: nats://127.0.0.1:9\npostgres:\n  url:"
            + " jdbc:postgresql://127.0.0.1:9/cfn\n";
    Files.writeString(tmp.resolve("SUBSCRIBED"), cluster + "subscriptions:\n  fan: [news.#]\n");
    Files.writeString(tmp.resolve("BADSUBS"), cluster + "subscriptions:\n  fan: [news..x]\n");
    SqliteJournal.builder(tmp.resolve("J")).open().close();
    SqliteMemoryStore.open(tmp.resolve("M")).close();
    Files.createDirectories(tmp.resolve("AGENTS"));
    Files.writeString(
        tmp.resolve("AGENTS/helper.md"),
        "---\nname: helper\ndescription: Helps\nmodel: gpt-4o-mini\n---\nYou help.\n");
    Files.createDirectories(tmp.resolve("INITED/.claude/agents"));
    Files.writeString(tmp.resolve("INITED/.claude/agents/reviewer.md"), "mine\n");
    Files.writeString(
        tmp.resolve("HELPER2"),
        "---\nname: helper\ndescription: Helps\nmodel: gpt-4o-mini\nversion: 2\n---\nYou help more.\n");
    // a hooks file with a moment cfn does not know, alone and as a project's .cfn/hooks.yaml
    String badHooks = "before-task:\n  - command: [touch, ran]\n";
    Files.writeString(tmp.resolve("BADHOOKS"), badHooks);
    Files.createDirectories(tmp.resolve("BADPROJECT/.cfn"));
    Files.writeString(tmp.resolve("BADPROJECT/.cfn/hooks.yaml"), badHooks);
    Files.writeString(tmp.resolve("GRAPH"), "graph: g\ntasks:\n  - {id: a, agent: helper}\n");
    Files.writeString(
        tmp.resolve("CYCLE"),
        "graph: g\ntasks:\n  - {id: a, agent: helper, after: [b]}\n"
            + "  - {id: b, agent: helper, after: [a]}\n");
    Files.writeString(tmp.resolve("NOAGENT"), "graph: g\ntasks:\n  - {id: a, agent: nobody}\n");
    // a swarm whose agents name no model: they get the cassette's, which has no price
    Files.createDirectories(tmp.resolve("SWARM"));
    Files.writeString(
        tmp.resolve("SWARM/lead.md"),
        "---\nname: lead\ndescription: Plans\ntype: coordinator\n---\nYou plan.\n");
    Files.writeString(
        tmp.resolve("SWARM/member.md"), "---\nname: member\ndescription: Works\n---\nYou work.\n");
    Files.writeString(tmp.resolve("SWARMGRAPH"), "graph: g\ntasks:\n  - {id: a, agent: member}\n");
    // graphs run through a swarm: an unknown strategy, a task naming an agent, no one offering
    Files.writeString(
        tmp.resolve("BADSWARM"),
        "graph: g\nswarm: {name: team, strategy: fastest}\ntasks:\n  - {id: a, capability: x}\n");
    Files.writeString(
        tmp.resolve("SWARMAGENT"), "graph: g\nswarm: team\ntasks:\n  - {id: a, agent: helper}\n");
    Files.writeString(
        tmp.resolve("SWARMNOCAP"),
        "graph: g\nswarm: team\ntasks:\n  - {id: a, capability: poetry}\n");
    Files.copy(
        Path.of(System.getProperty("user.dir")).resolveSibling("examples/quickstart/cassette.json"),
        tmp.resolve("C"));
    // audit: a good log, and a copy with one byte changed
    try (AuditLog log = AuditLog.open(tmp.resolve("AUDITOK/.cfn"))) {
      log.append(AuditEvent.now("user:t", "keys.init", "", AuditEvent.Outcome.SUCCESS, Map.of()));
    }
    Path bad = tmp.resolve("AUDITBAD/.cfn/audit");
    Files.createDirectories(bad);
    byte[] log = Files.readAllBytes(tmp.resolve("AUDITOK/.cfn/audit/audit.log"));
    log[log.length - 40] ^= 1;
    Files.write(bad.resolve("audit.log"), log);
    // keys: a keyring, a damaged one, and one others may read
    Keyring.init(tmp.resolve("KEYED/.cfn/keys"), Map.of());
    Keyring.init(tmp.resolve("BADKEYS/.cfn/keys"), Map.of());
    Files.writeString(tmp.resolve("BADKEYS/.cfn/keys/master.json"), "{ damaged");
    Keyring.init(tmp.resolve("OPENKEYS/.cfn/keys"), Map.of());
    Files.setPosixFilePermissions(
        tmp.resolve("OPENKEYS/.cfn/keys/master.json"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    // encrypted files whose keyring is gone
    Path sealed = tmp.resolve("SEALED/.cfn");
    Keyring.init(sealed.resolve("keys"), Map.of()).close();
    try (SqliteMemoryStore m = SqliteMemoryStore.open(sealed.resolve("memory.db"))) {
      m.put(dev.cfn.core.spi.MemoryAccessor.operator(), "default", "k", "secret");
    }
    SqliteJournal.builder(sealed.resolve("cfn.db")).open().close();
    for (String f : List.of("master.json", "datakeys.json", "keys.lock")) {
      Files.deleteIfExists(sealed.resolve("keys").resolve(f));
    }
  }

  static String[] args(String line) {
    List<String> args = new ArrayList<>();
    for (String word : line.split(" ")) {
      args.add(
          switch (word) {
            case "''" -> "";
            case "MISSING",
                "DIR",
                "GARBAGE",
                "BINARY",
                "J",
                "M",
                "C",
                "AGENTS",
                "OUT",
                "NEW",
                "INITED",
                "AUDITOK",
                "AUDITBAD",
                "KEYED",
                "BADKEYS",
                "OPENKEYS",
                "GRAPH",
                "CYCLE",
                "NOAGENT",
                "BADALERTS",
                "HOOKED",
                "SWARM",
                "SWARMGRAPH",
                "BADHOOKS",
                "BADPROJECT",
                "HELPER2",
                "SUBSCRIBED",
                "BADSUBS" ->
                tmp.resolve(word).toString();
            case "SEALEDJ" -> tmp.resolve("SEALED/.cfn/cfn.db").toString();
            case "SEALEDM" -> tmp.resolve("SEALED/.cfn/memory.db").toString();
            default -> word;
          });
    }
    return args.toArray(String[]::new);
  }

  static Stream<String> cases() {
    return CASES.stream();
  }

  @ParameterizedTest(name = "cfn {0}")
  @MethodSource("cases")
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void failsInOneLineWithoutATrace(String line) {
    CliRun r = run(args(line));
    String all = r.out() + r.err();
    assertThat(r.code()).as("exit status of cfn %s; stderr: %s", line, r.err()).isNotZero();
    assertThat(all).as("cfn %s printed a stack trace", line).doesNotContain("\tat ");
    List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
    assertThat(lines).as("stderr of cfn %s", line).hasSize(1);
    assertThat(lines.get(0)).as("cfn %s", line).matches("cfn( [a-z-]+)*: .+");
    assertThat(all).as("cfn %s", line).doesNotContain("Exception");
    // the JDK's message for bytes that are not UTF-8, which says nothing to a user
    assertThat(all).as("cfn %s", line).doesNotContain("Input length");
    assertThat(lines.get(0))
        .as("cfn %s: one fix per problem", line)
        .doesNotContainPattern("\\(fix: [^()]*\\) \\(fix: ");
  }

  @Test
  void everyCommandIsInTheTable() {
    List<String> missing = new ArrayList<>();
    collect(Main.commandLine(), missing);
    assertThat(missing).as("commands without a bad-input case").isEmpty();
  }

  private static void collect(CommandLine cl, List<String> missing) {
    for (var e : cl.getSubcommands().entrySet()) {
      CommandLine sub = e.getValue();
      if (sub.getCommandSpec().usageMessage().hidden() || e.getKey().equals("help")) {
        continue;
      }
      String name = sub.getCommandSpec().qualifiedName().substring("cfn ".length());
      if (name.equals("bench jmh")) {
        continue; // every argument belongs to JMH, which checks them itself
      }
      if (CASES.stream().noneMatch(c -> c.equals(name) || c.startsWith(name + " "))) {
        missing.add(name);
      }
      collect(sub, missing);
    }
  }

  @Test
  void debugPrintsTheTraceAndStillTheLine() {
    CliRun r = run(args("store check --journal J --memory GARBAGE --debug"));
    assertThat(r.code()).isEqualTo(ExitCode.FAILED);
    CliRun usage = run(args("memory get k --memory GARBAGE --debug"));
    assertThat(usage.code()).isEqualTo(ExitCode.USAGE);
    assertThat(usage.err()).contains("\tat ").contains("cfn memory get: ");
  }

  @Test
  void exitCodesAreInTheHelp() {
    CliRun r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("Exit codes:").contains("3").contains("denied");
  }

  @Test
  void helpIsCompleteAndNamesCfn() {
    for (String[] cmd :
        List.of(
            new String[] {"bench", "--help"},
            new String[] {"bench", "jmh", "--help"},
            new String[] {"bench", "agents", "--help"},
            new String[] {"chaos", "--help"},
            new String[] {"chaos", "crash", "--help"},
            new String[] {"restore", "--help"},
            new String[] {"store", "--help"},
            new String[] {"dlq", "--help"})) {
      CliRun r = run(cmd);
      assertThat(r.code()).as(String.join(" ", cmd)).isZero();
      assertThat(r.out()).as(String.join(" ", cmd)).contains("Usage: cfn " + cmd[0]);
    }
    assertThat(run("bench", "--help").out())
        .contains("bus")
        .contains("reliable")
        .contains("agents")
        .contains("jmh");
    // the summary of crash in `cfn chaos --help` is a whole sentence
    assertThat(run("chaos", "--help").out()).contains("nothing was lost or duplicated.");
  }
}
