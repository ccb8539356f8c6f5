/**
 * sevcheck command line. Each command is loaded only when used, so `sevcheck measure` never pays
 * for cucumber. Errors a user can cause (bad flags, bad input, unreachable hosts) print one line
 * `sevcheck: ...` and exit 2; never a stack trace.
 */
import { Command, CommanderError, Option, type OptionValues } from 'commander';
import { basename, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { HarnessError } from '../host/types.js';
import { printable, printableLines } from '../report/printable.js';
import { tolerateClosedPipes } from './closed-pipe.js';
import { REPORT_FILES, WRITERS } from '../report/writers.js';
import { USAGE } from './usage.js';
import { VERSION } from '../version.js';
import { configPath } from '../site/config-path.js';

export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
}

const HOST_HELP = 'local | ssh://[user@]host[:port] | fixture:DIR | rootfs:DIR | image:FILE';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/**
 * Commands with their own argument parsers (they run without cucumber): dispatched before
 * commander sees them, so their options are theirs alone.
 */
const STANDALONE: Record<string, { describe: string; load: () => Promise<(argv: string[], out: { stdout: (s: string) => void; stderr: (s: string) => void }) => Promise<number>> }> = {
  measure: { describe: 'compute SEV / SEV-ES / SEV-SNP launch digests (sev-snp-measure compatible)', load: async () => (await import('./measure.js')).measureMain },
  'lint-domain': { describe: 'check libvirt domain XML files against the schema and the SEV rules', load: async () => (await import('./lint.js')).lintDomainMain },
  'lint-pve': { describe: 'check Proxmox VE VM configs (amd-sev) and the QEMU arguments they produce', load: async () => (await import('./lint.js')).lintPveMain },
  'lint-qemu': { describe: 'check a QEMU command line (file or /proc/<pid>/cmdline) for SEV settings', load: async () => (await import('./lint.js')).lintQemuMain },
};

/** The commands commander parses (each has --help). */
const SUITE_COMMANDS = ['run', 'record', 'fleet', 'steps'];

export async function main(argv: string[], io: Io = process): Promise<number> {
  if (io.stdout === process.stdout) tolerateClosedPipes();
  // whatever a command prints on stderr, control bytes from a host or a file stay escaped
  const errOut = (s: string): boolean => io.stderr.write(printableLines(s));
  const commands = [...SUITE_COMMANDS, ...Object.keys(STANDALONE)];
  // `sevcheck help <command>` is `sevcheck <command> --help`, for every command
  if (argv[0] === 'help' && argv[1] !== undefined) {
    if (!commands.includes(argv[1])) {
      errOut(`sevcheck: help: unknown command "${printable(argv[1])}" (commands: ${commands.join(', ')})\n`);
      return 2;
    }
    argv = [argv[1], '--help'];
  }
  // an unknown command is an error even with --help (commander would print the general help, exit 0)
  if (argv[0] !== undefined && !argv[0].startsWith('-') && argv[0] !== 'help' && !commands.includes(argv[0])) {
    errOut(`sevcheck: ${printable(argv[0])}: unknown command (commands: ${commands.join(', ')}; sevcheck --help)\n`);
    return 2;
  }
  const standalone = argv[0] !== undefined ? STANDALONE[argv[0]] : undefined;
  if (standalone) {
    try {
      const run = await standalone.load();
      return await run(argv.slice(1), { stdout: (s) => io.stdout.write(s), stderr: errOut });
    } catch (e) {
      errOut(`sevcheck ${argv[0]}: ${printable(e instanceof Error ? e.message : String(e))}\n`);
      return 2;
    }
  }
  let exitCode = 0;
  const program = new Command('sevcheck')
    .description('Declarative test and compliance harness for AMD SEV virtualization stacks')
    .version(VERSION)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: errOut,
      // a usage error is one line like every other input error: `sevcheck: <problem> (see --help)`
      outputError: (s, write) => write(`sevcheck: ${s.trim().replace(/^error: /, '').replace(/\.$/, '')} (see sevcheck ${argv[0] && !argv[0].startsWith('-') ? `${argv[0]} ` : ''}--help)\n`),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `
Synopsis:
${USAGE.split('\n').map((l) => `  ${l}`).join('\n')}

More commands (each has --help):
${Object.entries(STANDALONE).map(([n, c]) => `  ${n.padEnd(16)} ${c.describe}`).join('\n')}

Exit codes: 0 all checks compliant, 1 compliance failures, 2 harness or input error.

Examples:
  sevcheck run                                   check this machine (profile sev)
  sevcheck run --host ssh://root@epyc1 --profile sev-snp
  sevcheck run --host fixture:fixtures/hosts/reference-milan --format json
  sevcheck record --host ssh://root@epyc1 --out fixtures/hosts/epyc1`,
    );

  const FORMATS: Record<string, string> = {
    text: 'at most 40 lines: the causes of the failures with one fix each, the undecided checks by reason, the totals per layer, the verdict, the report paths (--verbose: every check)',
    pretty: "cucumber's pretty formatter: every scenario and step, for Gherkin readers",
    // every writer's name prints that report on stdout (report/writers.ts)
    ...Object.fromEntries(Object.entries(WRITERS).map(([name, w]) => [name, name === 'json' ? `${w.file} (docs/results.md)` : w.file])),
  };
  const formatOption = (names: string[]): Option =>
    new Option('--format <format>', `console output: ${names.map((n) => `${n} = ${FORMATS[n]}`).join('; ')}`).choices(names).default('text');

  /** The options every run of the suite takes, for one host (run, record) or each host of a fleet. */
  const runOptions = (cmd: Command): Command =>
    cmd
      .option('--ssh-option <Key=Value>', 'extra ssh -o option (repeatable; host-key checking cannot be turned off)', collect, [])
      .option('--ssh-identity <file>', 'ssh private key to use')
      .option('--launch <dir>', "the guest owner's launch bundle for the launch.* checks (a directory with launch.json; docs/launch.md)")
      .option('--vectors <dir>', 'where launch.json "vectors:..." paths resolve (default: $SEVCHECK_VECTORS)')
      .option('--amd-certs <dir>', "AMD's root certificates for offline hosts: ask_ark_<gen>.cert or <gen>/{ark,ask}.cert (SEV), <gen>/{ark,ask}.pem (SNP); never fetched then (docs/caps.md)")
      .option('--kds', "fetch AMD's certificates (SEV ASK/ARK, SNP ASK/ARK/VCEK) when not cached (default for live hosts; fixture replays never fetch unless given this)")
      .option('--no-kds', "never fetch or use cached AMD certificates (their checks are then undecided without --amd-certs)")
      .option('--kds-cache <dir>', "where fetched AMD certificates are cached (default $XDG_CACHE_HOME/sevcheck/kds)")
      .option('--kds-url <url>', "one mirror of AMD's downloads serving URL/ask_ark_<gen>.cert and URL/vcek/v1/... (default $SEVCHECK_KDS_URL, else AMD's own)")
      .option('--min-firmware <X.Y>', 'lowest SEV firmware version host.firmware.version accepts, major.minor (default: 1.51 for the sev-snp profile, none for sev and sev-es)')
      .option('--features <dir>', "a site's own .feature files, run with the bundled checks (repeatable; ids @check:site.<name>; docs/site-policy.md)", collect, [])
      .option('--config <file>', 'site file: profile, features, waivers, min-firmware, exclude, … (default /etc/sevcheck/sevcheck.yaml when it exists; docs/site-policy.md)')
      .option('--no-config', 'read no site file, not even the default');
  /** runOptions' values as runSuite / fleetMain take them */
  const runOptionValues = (o: OptionValues) => ({
    ssh: { options: o.sshOption, identityFile: o.sshIdentity },
    launch: { bundle: o.launch, vectors: o.vectors },
    amdCerts: { amdCertsDir: o.amdCerts, kds: o.kds, kdsCacheDir: o.kdsCache, kdsUrl: o.kdsUrl },
    minFirmware: o.minFirmware,
    features: o.features as string[],
    config: configPath(o.config as string | false | undefined),
  });
  /** One host: which, against what profile, which checks; then the run options. */
  const suiteOptions = (cmd: Command): Command =>
    runOptions(
      cmd
        .option('--host <target>', `host to check: ${HOST_HELP}`, 'local')
        .addOption(new Option('--profile <profile>', 'what the host must support (default: the fixture\'s host.json profile, else sev)').choices(['sev', 'sev-es', 'sev-snp']))
        .option('--tags <expr>', 'cucumber tag expression to select checks, e.g. "@check:host.cpuid.sev or @sev-es"'),
    );

  suiteOptions(
    program
      .command('run')
      .description('run the compliance suite against a host and write reports')
      .addOption(formatOption(['text', 'pretty', ...Object.keys(WRITERS)]))
      .option('--verbose', 'text console: also one line per check as it completes, and nothing cut')
      .option('--out <dir>', `report directory (${REPORT_FILES.join(', ')})`, 'reports')
      .option('--fail-on-undecided', 'exit 1 when any check is undecided, not only when one failed'),
  ).action(async (o) => {
    const { runSuite } = await import('./run.js');
    const r = await runSuite(
      {
        host: o.host,
        profile: o.profile,
        tags: o.tags,
        format: o.format,
        verbose: Boolean(o.verbose),
        outDir: o.out,
        failOnUndecided: Boolean(o.failOnUndecided),
        ...runOptionValues(o),
      },
      io,
    );
    if (r.error) io.stderr.write(`sevcheck: ${printable(r.error)}\n`);
    exitCode = r.exitCode;
  });

  suiteOptions(
    program
      .command('record')
      .description('run the suite against a live host and save everything it read as a fixture host')
      .requiredOption('--out <dir>', 'fixture directory to write (fixtures/hosts/<name>): new or empty, or replaced whole with --force')
      .option('--force', 'replace a non-empty --out directory whole (never merged into it)')
      .option('--name <name>', 'host name for host.json (default: the directory name)')
      .option('--reports <dir>', 'where to write the reports of the recording run', 'reports')
      .addOption(formatOption(['text', 'pretty']))
      .option('--verbose', 'text console: also one line per check as it completes, and nothing cut'),
  ).action(async (o) => {
    const { runSuite } = await import('./run.js');
    const r = await runSuite(
      {
        host: o.host,
        profile: o.profile,
        tags: o.tags,
        format: o.format,
        verbose: Boolean(o.verbose),
        outDir: o.reports,
        outOption: '--reports',
        recordTo: { dir: o.out, name: o.name ?? basename(resolve(o.out)), force: Boolean(o.force) },
        ...runOptionValues(o),
      },
      io,
    );
    if (r.error) io.stderr.write(`sevcheck: ${printable(r.error)}\n`);
    else {
      if (String(o.host).startsWith('fixture:')) io.stderr.write('sevcheck: note: re-recorded a fixture host\n');
      io.stdout.write(`recorded ${printable(o.host)} into ${printable(resolve(o.out))}\n`);
    }
    exitCode = r.exitCode === 2 ? 2 : 0;
  });

  // sevcheck fleet (issue 10, docs/fleet.md): --tags selects hosts by inventory tag, --checks
  // selects scenarios (what run's --tags does)
  runOptions(
    program
      .command('fleet')
      .description(`run the suite over many hosts (or aggregate their ${WRITERS['json']?.file}) into one report directory (docs/fleet.md)`)
      .option('--inventory <file>', 'inventory YAML: hosts with name, target, profile, tags (docs/fleet.md)')
      .option('--ansible-inventory <file>', 'an Ansible inventory, read through `ansible-inventory -i FILE --list`')
      .option('--from-results <dir>', `aggregate DIR/<host name>/${WRITERS['json']?.file} (fetched from the hosts) instead of running`)
      .option('--jobs <n>', 'hosts at once (default: the core count for fixture hosts, 16 when there are ssh hosts)')
      .option('--out <dir>', 'fleet report directory (default reports/fleet/<UTC timestamp>/)')
      .option('--waivers <file>', 'waivers YAML: accepted failures with a reason and an expiry date')
      .option('--compare <dir>', 'a previous fleet --out directory: report what changed since')
      .option('--history <dir>', 'keep each complete run under DIR (the last --keep), compare with the newest, and give fleet.json each host\'s history')
      .option('--keep <n>', 'runs --history keeps (default 60)')
      .addOption(new Option('--fail-on <which>', 'exit 1 on any unwaived failure, or only on new ones (needs --compare)').choices(['any', 'new']).default('any'))
      .option('--host-timeout <seconds>', 'a host taking longer is an error, the others go on (default 600)')
      .addOption(new Option('--format <format>', 'console output: pretty = hosts with failures and the totals; json = fleet.json on stdout').choices(['pretty', 'json']).default('pretty'))
      .option('--tags <expr>', 'select hosts by inventory tag (a tag expression: "rack-a and not milan")')
      .option('--checks <expr>', 'select checks: cucumber tag expression, as run --tags ("@layer:host")')
      .option('--fail-on-undecided', "a host with an undecided check has run's exit code 1 (fleet.json exitCode)"),
  ).action(async (o) => {
      const { fleetMain } = await import('./fleet.js');
      const ctl = new AbortController();
      const stop = (): void => ctl.abort('interrupted');
      const own = io.stdout === process.stdout;
      if (own) {
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }
      try {
        exitCode = await fleetMain(
          {
            inventory: o.inventory,
            ansibleInventory: o.ansibleInventory,
            fromResults: o.fromResults,
            jobs: o.jobs,
            out: o.out,
            waivers: o.waivers,
            compare: o.compare,
            history: o.history,
            keep: o.keep,
            failOn: o.failOn,
            hostTimeout: o.hostTimeout,
            format: o.format,
            tags: o.tags,
            checks: o.checks,
            failOnUndecided: Boolean(o.failOnUndecided),
            ...runOptionValues(o),
          },
          io,
          { signal: ctl.signal },
        );
      } finally {
        if (own) {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      }
    });

  // sevcheck steps (issue 21, docs/steps.md): the step vocabulary site features may use
  program
    .command('steps')
    .description('list every step a site feature may use, generated from the step definitions (docs/steps.md)')
    .addOption(new Option('--format <format>', 'text = one line per step by layer; json = [{text, keyword, parameters, example, layer}]; markdown = docs/steps.md').choices(['text', 'json', 'markdown']).default('text'))
    .action(async (o) => {
      const { loadSuite } = await import('../run/suite.js');
      const { vocabulary, vocabularyMarkdown, vocabularyText } = await import('../site/vocabulary.js');
      const entries = vocabulary((await loadSuite()).support);
      io.stdout.write(o.format === 'json' ? `${JSON.stringify(entries, null, 2)}\n` : o.format === 'markdown' ? vocabularyMarkdown(entries) : vocabularyText(entries));
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof HarnessError) {
      io.stderr.write(`sevcheck: ${printable(e.message)}\n`);
      return 2;
    }
    io.stderr.write(`sevcheck: internal error: ${printable(e instanceof Error ? e.message : String(e))} (please report this as a bug)\n`);
    if (process.env.SEVCHECK_DEBUG && e instanceof Error) io.stderr.write(`${e.stack}\n`);
    return 2;
  }
}
