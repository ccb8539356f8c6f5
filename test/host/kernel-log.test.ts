import { describe, expect, it } from 'vitest';
import { hasSevLines, parseKernelLog } from '../../support/parsers/kernel-log.js';

const J = 'epyc kernel: ';

describe('parseKernelLog', () => {
  it('reads the Linux 6.11 wording: ccp API lines, kvm_amd ranges, the RMP range', () => {
    const f = parseKernelLog(
      [
        `[    0.000000] ${J}Linux version 6.11.0-19-generic (buildd@x) #19`,
        `[    0.000000] ${J}SEV-SNP: RMP table physical range [0x0000000088900000 - 0x00000000a8efffff]`,
        `[    4.5] ${J}ccp 0000:47:00.1: SEV-SNP API:1.55 build:21`,
        `[    4.6] ${J}ccp 0000:47:00.1: SEV API:1.55 build:21`,
        `[    6.1] ${J}kvm_amd: SEV enabled (ASIDs 128 - 509)`,
        `[    6.1] ${J}kvm_amd: SEV-ES unusable (ASIDs 1 - 0)`,
        `[    6.1] ${J}kvm_amd: SEV-SNP disabled (ASIDs 1 - 0)`,
      ].join('\n'),
    );
    expect(f.snpApi).toMatchObject({ major: 1, minor: 55, build: 21, lineNo: 3 });
    expect(f.sevApi).toMatchObject({ major: 1, minor: 55, build: 21, lineNo: 4 });
    expect(f.kvm.SEV).toMatchObject({ state: 'enabled', asids: [128, 509], wording: 'v6.5+' });
    expect(f.kvm['SEV-ES']).toMatchObject({ state: 'unusable' });
    expect(f.kvm['SEV-SNP']).toMatchObject({ state: 'disabled' });
    expect(f.rmp?.range).toEqual({ base: 0x88900000n, end: 0xa8efffffn });
    expect(f.bootBanner).toBe(true);
  });

  it('reads the older kvm_amd wordings (v5.11-v6.4 and v4.16-v5.10)', () => {
    const mid = parseKernelLog('kvm_amd: SEV supported: 382 ASIDs\nkvm_amd: SEV-ES supported: 127 ASIDs\n');
    expect(mid.kvm.SEV).toMatchObject({ state: 'enabled', wording: 'v5.11-v6.4' });
    expect(mid.kvm['SEV-ES']).toMatchObject({ state: 'enabled', wording: 'v5.11-v6.4' });
    expect(parseKernelLog('[ 4.1] kvm_amd: SEV supported\n').kvm.SEV).toMatchObject({ state: 'enabled', wording: 'v4.16-v5.10' });
  });

  it('takes no fact from a truncated line or from garbage, and keeps the whole line seen before it', () => {
    const f = parseKernelLog(
      [
        '\u001b[0m#### 0xdeadbeef SEV API:9.99 build:1 junk',
        'ccp 0000:47:00.1: SEV API:1.55 build:21',
        'ccp 0000:47:00.1: SEV API:1.5',
        'kvm_amd: SEV-SNP enabled (ASIDs 1 - 12',
        'SEV-SNP: RMP table physical range [0x0000000088900000 - 0x00000000a8ef',
        'kvm_amd: SEV-ES supported: 12',
      ].join('\n'),
    );
    expect(f.sevApi).toMatchObject({ major: 1, minor: 55, lineNo: 2 });
    expect(f.kvm).toEqual({});
    expect(f.rmp).toBeUndefined();
  });

  it('reads only the last boot of a kern.log with several', () => {
    const f = parseKernelLog(
      [
        'Dec  1 kernel: [    0.0] Linux version 6.8.0',
        'Dec  1 kernel: [    3.4] ccp 0000:47:00.1: SEV API:1.49 build:3',
        'Dec  3 kernel: [    0.0] Linux version 6.11.0',
        'Dec  3 kernel: [    3.4] ccp 0000:47:00.1: SEV: INIT failed 0x3, rc -5',
      ].join('\n'),
    );
    expect(f.sevApi).toBeUndefined();
    expect(f.sevInitFailed?.lineNo).toBe(4);
  });

  it('the firmware update line and the RMP "not reserved" line', () => {
    const f = parseKernelLog('ccp 0000:45:00.1: SEV firmware updated from 1.49.3 to 1.55.21\nSEV-SNP: Memory for the RMP table has not been reserved by BIOS\n');
    expect(f.firmwareUpdate).toMatchObject({ from: '1.49.3', to: '1.55.21' });
    expect(f.rmp).toBeDefined();
    expect(f.rmp?.range).toBeUndefined();
  });

  it('an empty or unrelated log has no SEV line', () => {
    expect(hasSevLines(parseKernelLog(''))).toBe(false);
    expect(hasSevLines(parseKernelLog('-- No entries --\n'))).toBe(false);
    expect(parseKernelLog('-- No entries --\n').lines).toBe(0);
    expect(hasSevLines(parseKernelLog('usb 1-1: new high-speed USB device\n'))).toBe(false);
  });
});
