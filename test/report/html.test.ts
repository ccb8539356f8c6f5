/**
 * report.html as a string (support/report/html.ts): order, grouping, verdict banner, fields with
 * message fallback, escaping, and that the page loads and runs nothing. Chromium's view of it is
 * test/report/html-chromium.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { reportHtml, text, type ReportCheck, type ReportResults } from '../../support/report/html.js';
import type { Results } from '../../support/report/results.js';

const base = { host: 'epyc1', target: 'ssh://root@epyc1', profile: 'sev-snp', startedAt: '2026-11-26T12:00:00.000Z', durationMs: 1234 };
const c = (id: string, status: ReportCheck['status'], message: string, more: Partial<ReportCheck> = {}): ReportCheck => ({
  id,
  status,
  scenario: `scenario of ${id}`,
  feature: `features/${id.split('.')[0]}/x.feature`,
  message,
  ...more,
});

/** the check ids in page order, from the id attributes of the check elements */
const idsInOrder = (html: string): string[] => [...html.matchAll(/<article class="check [^"]*" id="([^"]*)"/g)].map((m) => m[1]!);

describe('reportHtml', () => {
  it('failed first (each cause, then what fails because of it), then undecided (by reason), passed, skipped (by layer); one element per check id', () => {
    const html = reportHtml({
      ...base,
      checks: [
        c('host.cpu.sev-flag', 'passed', 'lists "sev"'),
        c('device.sev.exists', 'skipped', 'skipped: no'),
        c('caps.cache.fresh', 'undecided', 'undecided: no cache'),
        c('host.kvm-amd.sev', 'failed', 'found N; expected Y; fix: modprobe'),
        c('device.memlock', 'failed', 'found 64k; expected unlimited; fix: LimitMEMLOCK=infinity'),
        c('host.kvm-amd.sev', 'skipped', 'skipped: other machine'),
        c('host.modprobe.sev', 'failed', 'found sev=0; expected sev=1; fix: edit'),
      ],
    });
    expect(idsInOrder(html)).toEqual([
      // failed: the causes in run order, host.kvm-amd.sev under host.modprobe.sev (rules/causes.ts)
      'device.memlock', 'host.modprobe.sev', 'host.kvm-amd.sev',
      'caps.cache.fresh',
      'host.cpu.sev-flag',
      'device.sev.exists',
    ]);
    // a check with several scenarios is one element, with the worst verdict, listing each scenario
    expect(html.match(/id="host\.kvm-amd\.sev"/g)).toHaveLength(1);
    expect(html).toMatch(/<article class="check failed symptom" id="host\.kvm-amd\.sev">.*2 scenarios.*<p class="because">because <a href="#host\.modprobe\.sev">host\.modprobe\.sev<\/a><\/p>.*label failed.*label skipped/s);
    expect(html.indexOf('<h2>Failed (3) — 2 causes, 1 failing because of them</h2>')).toBeLessThan(html.indexOf('<h2>Undecided (1)</h2>'));
    expect(html.indexOf('<h2>Passed (1)</h2>')).toBeLessThan(html.indexOf('<h2>Skipped (1)</h2>'));
    expect(html).toContain('<h3 class="layer">host</h3>');
    expect(html).toContain('href="#host.kvm-amd.sev"');
  });

  it('the banner says NOT COMPLIANT / COMPLIANT SO FAR — n undecided / COMPLIANT, for the profile, counting check ids', () => {
    const banner = (checks: ReportCheck[]): string => /<header class="banner (\w+)">.*?<h1>([^<]*)<\/h1>/s.exec(reportHtml({ ...base, checks }))!.slice(1).join(' ');
    expect(banner([c('a.x', 'failed', 'f'), c('a.y', 'undecided', 'u')])).toBe('failed NOT COMPLIANT');
    expect(banner([c('a.y', 'undecided', 'u'), c('a.y', 'undecided', 'u2'), c('a.z', 'undecided', 'u'), c('a.p', 'passed', 'p')])).toBe('undecided COMPLIANT SO FAR — 2 undecided');
    expect(banner([c('a.p', 'passed', 'p'), c('a.s', 'skipped', 's')])).toBe('passed COMPLIANT');
    const html = reportHtml({ ...base, checks: [c('a.p', 'passed', 'p'), c('a.p', 'skipped', 's'), c('a.s', 'skipped', 's')] });
    expect(html).toContain('<p class="counts">2 checks: 0 failed, 0 undecided, 1 passed, 1 skipped</p>');
    expect(html).toMatch(/for profile <strong>sev-snp<\/strong>/);
  });

  it('host identity: name, target, profile, when, how long, and hostInfo where present', () => {
    const without = reportHtml({ ...base, checks: [c('a.p', 'passed', 'p')] });
    expect(without).toContain('<dt>target</dt><dd><code>ssh://root@epyc1</code></dd>');
    expect(without).toContain('<dt>started</dt><dd>2026-11-26 12:00:00 UTC</dd>');
    expect(without).toContain('<dt>took</dt><dd>1.2 s</dd>');
    expect(without).not.toContain('<dt>kernel</dt>');
    const withInfo = reportHtml({
      ...base,
      hostInfo: { distro: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.1.0-28-amd64', cpuModel: 'AMD EPYC 7763 64-Core Processor', sevGeneration: 'Milan' },
      checks: [c('a.p', 'passed', 'p')],
    });
    for (const s of ['<dt>distro</dt><dd>Debian GNU/Linux 12 (bookworm)</dd>', '<dt>kernel</dt><dd>6.1.0-28-amd64</dd>', '<dt>CPU</dt><dd>AMD EPYC 7763 64-Core Processor</dd>', '<dt>SEV generation</dt><dd>Milan</dd>']) {
      expect(withInfo).toContain(s);
    }
  });

  it('a failure shows found / expected / fix (and source) from its fields; without them, its message', () => {
    const html = reportHtml({
      ...base,
      checks: [
        c('host.kvm-amd.sev', 'failed', 'found N; expected Y; fix: x', { found: '/sys/module/kvm_amd/parameters/sev reads "N"', expected: '"Y" or "1"', fix: 'echo "options kvm_amd sev=1" > /etc/modprobe.d/sev.conf', source: '/sys/module/kvm_amd/parameters/sev' }),
        c('host.modprobe.sev', 'failed', 'found sev=0 at a.conf:2; expected sev=1; fix: edit a.conf:2'),
        c('caps.cache.fresh', 'undecided', 'undecided: no cache', { reason: 'no cache' }),
        c('device.sev.exists', 'skipped', 'skipped: profile sev'),
      ],
    });
    expect(html).toContain('<dt>found</dt><dd class="found">/sys/module/kvm_amd/parameters/sev reads &#34;N&#34;</dd><dt>expected</dt><dd class="expected">&#34;Y&#34; or &#34;1&#34;</dd><dt>fix</dt><dd class="fix"><code>echo &#34;options kvm_amd sev=1&#34; &#62; /etc/modprobe.d/sev.conf</code></dd><dt>source</dt>');
    expect(html).toContain('<p class="message">found sev=0 at a.conf:2; expected sev=1; fix: edit a.conf:2</p>');
    // the group states the reason once; the check under it does not repeat it
    expect(html).toContain('<h3 class="reason">1 undecided: no cache</h3>');
    expect(html.split('no cache')).toHaveLength(2);
    expect(html).toContain('<p class="message">skipped: profile sev</p>');
    // checks of one group with reasons of their own each keep theirs; one shared reason is one "why" line
    const msr = (id: string, cpu: number) => c(id, 'undecided', `undecided: MSR 0xc0010010 on CPU ${cpu}: denied`, { reason: `MSR 0xc0010010 on CPU ${cpu}: denied` });
    const own = reportHtml({ ...base, checks: [msr('host.msr.a', 0), msr('host.msr.b', 1)] });
    expect(own).toContain('<dt>why</dt><dd class="reason">MSR 0xc0010010 on CPU 0: denied</dd>');
    expect(own).toContain('<dt>why</dt><dd class="reason">MSR 0xc0010010 on CPU 1: denied</dd>');
    const one = reportHtml({ ...base, checks: [msr('host.msr.a', 0), msr('host.msr.b', 0)] });
    expect(one.split('MSR 0xc0010010 on CPU 0: denied')).toHaveLength(2);
    expect(one).toContain('<p class="why"><span class="what">why:</span> MSR 0xc0010010 on CPU 0: denied</p>');
  });

  it('every string escaped, never stripped: XML, file names with <...>, quotes, crafted markup, control bytes', () => {
    const evil = `<script>alert(1)</script><img src=x onerror="alert('2')">`;
    const html = reportHtml({
      ...base,
      host: evil,
      target: `fixture:${evil}`,
      profile: evil,
      hostInfo: { distro: evil, kernel: evil, cpuModel: evil, sevGeneration: evil },
      checks: [
        c('domain.memory.pinned', 'passed', 'has <memoryBacking><locked/></memoryBacking>'),
        c('caps.pdh.chain-valid', 'undecided', 'undecided: give --amd-certs DIR with ask_ark_<generation>.cert & more\u001b[2J'),
        c('host.modprobe.sev', 'failed', `found sev=0 at /etc/modprobe.d/${evil}.conf:2`, { found: evil, expected: evil, fix: evil, source: evil }),
        c(`a.b"><script>x</script>`, 'skipped', evil, { scenario: evil, feature: evil, reason: evil }),
      ],
    });
    expect(html).not.toMatch(/<script|<img|<memoryBacking|<locked|<generation/i);
    expect(html).not.toContain('\u001b');
    expect(html).toContain('has &#60;memoryBacking&#62;&#60;locked/&#62;&#60;/memoryBacking&#62;');
    expect(html).toContain('ask_ark_&#60;generation&#62;.cert');
    expect(html).toContain(' &#38; more\\x1b[2J');
    expect(html).toContain(`id="a.b&#34;&#62;&#60;script&#62;x&#60;/script&#62;"`);
    expect(text(evil)).toBe('&#60;script&#62;alert(1)&#60;/script&#62;&#60;img src=x onerror=&#34;alert(&#39;2&#39;)&#34;&#62;');
  });

  it('loads nothing and runs nothing: no script, no external URL, a CSP that forbids both; a print stylesheet', () => {
    const html = reportHtml({ ...base, checks: [c('a.p', 'passed', 'see https://developer.amd.com/sev')] });
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=/i);
    expect(html.replace('see https://developer.amd.com/sev', '')).not.toMatch(/https?:/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">`);
    expect(html).toMatch(/<style>[\s\S]*@media print[\s\S]*<\/style>/);
    expect(reportHtml({ ...base, checks: [c('a.p', 'passed', 'p')] }, { links: {} })).not.toContain('cucumber.html');
    expect(reportHtml({ ...base, checks: [c('a.p', 'passed', 'p')] }, { links: { steps: 'cucumber.html' } })).toContain('href="cucumber.html"');
  });

  it('takes results.json as run writes it (Results)', () => {
    const r: Results = { ...base, checks: [{ id: 'a.p', status: 'passed', scenario: 's', feature: 'f', message: 'm' }] };
    const asPage: ReportResults = r;
    expect(reportHtml(asPage)).toContain('id="a.p"');
  });
});
