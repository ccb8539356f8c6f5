/**
 * QEMU firmware descriptors: the JSON files libvirt reads to pick a firmware for a guest
 * (`<os firmware='efi'>`, and for SEV guests the image that supports the launch security type).
 *
 * Schema and search rules: qemu/qemu docs/interop/firmware.json (06bb74985f42):
 * - struct Firmware { description, interface-types, mapping, targets, features, tags };
 * - mapping is a union on `device`: `flash` (executable.filename, nvram-template.filename),
 *   `memory` (filename), `kernel` (filename);
 * - FirmwareFeature enumerates `amd-sev`, `amd-sev-es`, `amd-sev-snp` (and acpi-s3,
 *   secure-boot, requires-smm, ...);
 * - descriptors are searched in /usr/share/qemu/firmware (distribution), /etc/qemu/firmware
 *   (system administrator) and $XDG_CONFIG_HOME/qemu/firmware (user; not for the system
 *   daemon). All files are sorted together by file name, that order is the priority order; a file
 *   in /etc with the same name as one in /usr/share replaces it, and an empty file there masks it.
 * libvirt applies the same rules (libvirt/libvirt 71b19c4f0825 src/qemu/qemu_interop_config.c
 * qemuInteropFetchConfigs, called by src/qemu/qemu_firmware.c qemuFirmwareFetchConfigs).
 */
import { ok, parseError, type ParseResult } from './parse-result.js';

/** highest priority first (libvirt's system daemon: no $XDG_CONFIG_HOME) */
export const FIRMWARE_DESCRIPTOR_DIRS: readonly string[] = ['/etc/qemu/firmware', '/usr/share/qemu/firmware'];

export interface FirmwareDescriptor {
  readonly path: string;
  readonly interfaceTypes: readonly string[];
  readonly device: string;
  /** the code image: mapping.executable.filename (flash) or mapping.filename (memory, kernel) */
  readonly image?: string | undefined;
  readonly features: readonly string[];
  readonly architectures: readonly string[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);

export function parseFirmwareDescriptor(text: string, path: string): ParseResult<FirmwareDescriptor> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    return parseError(path, 0, `not JSON: ${(e as Error).message}`);
  }
  if (!isObj(j)) return parseError(path, 0, 'not a JSON object');
  const mapping = j['mapping'];
  if (!isObj(mapping) || typeof mapping['device'] !== 'string') return parseError(path, 0, 'no "mapping" with a "device"');
  const features = strings(j['features']);
  if (!features) return parseError(path, 0, '"features" is not a list of strings');
  const interfaceTypes = strings(j['interface-types']) ?? [];
  const targets = Array.isArray(j['targets']) ? j['targets'] : [];
  const architectures = targets.flatMap((t) => (isObj(t) && typeof t['architecture'] === 'string' ? [t['architecture']] : []));
  const device = mapping['device'];
  const exec = mapping['executable'];
  const image =
    device === 'flash' ? (isObj(exec) && typeof exec['filename'] === 'string' ? exec['filename'] : undefined) : typeof mapping['filename'] === 'string' ? mapping['filename'] : undefined;
  if (image === undefined) return parseError(path, 0, `mapping (device ${device}) names no image file`);
  return ok({ path, interfaceTypes, device, image, features, architectures });
}

export interface DescriptorFile {
  readonly dir: string;
  readonly name: string;
  /** the file's text; '' for an empty (masking) file */
  readonly content: string;
}

/**
 * The descriptors in the order libvirt considers them: one per file name (the copy in the
 * highest-priority directory), names sorted, empty files dropped (they mask). Only `*.json`.
 */
export function effectiveDescriptorFiles(files: readonly DescriptorFile[]): { files: DescriptorFile[]; notes: string[] } {
  const prio = (dir: string): number => {
    const i = FIRMWARE_DESCRIPTOR_DIRS.indexOf(dir);
    return i < 0 ? FIRMWARE_DESCRIPTOR_DIRS.length : i;
  };
  const byName = new Map<string, DescriptorFile>();
  const notes: string[] = [];
  for (const f of files) {
    if (!f.name.endsWith('.json')) continue;
    const prev = byName.get(f.name);
    if (!prev || prio(f.dir) < prio(prev.dir)) {
      if (prev) notes.push(`${f.dir}/${f.name} overrides ${prev.dir}/${prev.name}`);
      byName.set(f.name, f);
    } else notes.push(`${prev.dir}/${prev.name} overrides ${f.dir}/${f.name}`);
  }
  const out: DescriptorFile[] = [];
  for (const name of [...byName.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const f = byName.get(name);
    if (!f) continue;
    if (f.content.trim() === '') {
      notes.push(`${f.dir}/${f.name} is empty: it masks that name`);
      continue;
    }
    out.push(f);
  }
  return { files: out, notes };
}

/**
 * The firmware image libvirt would pick for an SEV guest of `feature` (amd-sev, amd-sev-es,
 * amd-sev-snp): the first descriptor, in priority order, for x86_64 (or no target) that lists the
 * feature and whose image exists — so that a fix names a file the host has, not a path from
 * another distribution. `bios`: the image is loaded with -bios (mapping device memory), else it is
 * a pflash code image.
 */
export function sevFirmware(
  descriptors: ReadonlyArray<{ readonly descriptor: FirmwareDescriptor; readonly imageExists: boolean }>,
  feature: 'amd-sev' | 'amd-sev-es' | 'amd-sev-snp',
): { readonly image: string; readonly bios: boolean; readonly descriptor: string } | undefined {
  for (const { descriptor: d, imageExists } of descriptors) {
    if (!imageExists || d.image === undefined || !d.features.includes(feature)) continue;
    if (d.architectures.length && !d.architectures.includes('x86_64')) continue;
    return { image: d.image, bios: d.device === 'memory', descriptor: d.path };
  }
  return undefined;
}
