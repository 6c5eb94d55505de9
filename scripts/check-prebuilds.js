#!/usr/bin/env node
// Checks the prebuilt binaries a release ships (`npm pack` / `npm publish` run it
// as `prepack`, so a tarball without them cannot be made):
//
//   node scripts/check-prebuilds.js [--dir DIR] [--targets linux-x64,linux-arm64,win32-x64] [--max-glibc 2.28]
//
// For each target, prebuilds/<target>/<name> must exist and be:
// - linux-x64 / linux-arm64 (node.napi.glibc.node): an ELF shared object of that
//   machine exporting napi_register_module_v1, whose glibc symbol versions are all
//   <= --max-glibc (the oldest glibc it loads on is stated), with no GLIBCXX_ or
//   CXXABI_ version (libstdc++ is linked in), no shared library beyond glibc's own
//   and libgcc_s, and no unversioned reference a glibc might lack (napi_* come from
//   node; see UNVERSIONED_GLIBC).
// - win32-x64 (node.napi.node): a PE32+ x64 DLL exporting napi_register_module_v1
//   that imports only node.exe and Windows system DLLs (no libstdc++/libgcc/
//   winpthread DLL next to it).
// The ELF and PE headers are read here, not through objdump, so the check runs
// wherever node does; test/prebuilds.test.js compares it with readelf.
// Exits 1 and names what is missing or wrong, with the command that makes it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const TARGETS = {
  'linux-x64': { file: 'node.napi.glibc.node', format: 'elf', machine: 'x86-64' },
  'linux-arm64': { file: 'node.napi.glibc.node', format: 'elf', machine: 'aarch64' },
  'win32-x64': { file: 'node.napi.node', format: 'pe', machine: 'x64' },
};
const ELF_MACHINES = { 62: 'x86-64', 183: 'aarch64' };
// What a Linux prebuild may load besides itself: glibc's libraries and libgcc_s
// (the unwinder; see cmake/glibc-sysroot.cmake).
const LINUX_LIBS = new Set(['libc.so.6', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'librt.so.1',
  'ld-linux-x86-64.so.2', 'ld-linux-aarch64.so.1', 'libgcc_s.so.1']);
// glibc functions newer than the 2.17 sysroot the prebuilds link against: the
// linker leaves them unversioned, so their version is stated here.
// __cxa_thread_atexit_impl: libstdc++ calls it for thread_local destructors.
const UNVERSIONED_GLIBC = { __cxa_thread_atexit_impl: '2.18' };
const NODE_SYMBOL = /^(napi_|node_api_)/;
// Windows' own DLLs (always present); anything else would have to ship beside the .node.
const WINDOWS_DLL = /^(node\.exe|kernel32|msvcrt|ucrtbase|ntdll|advapi32|bcrypt|user32|ws2_32|api-ms-win-[a-z0-9-]+)(\.dll)?$/i;

const compareVersions = (a, b) => {
  const x = a.split('.').map(Number), y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
  return 0;
};
const cstring = (buf, off) => buf.toString('latin1', off, buf.indexOf(0, off));

/** An ELF64 little-endian shared object: machine, DT_NEEDED, required symbol versions, dynamic symbols. */
function readElf(buf) {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const type = buf.readUInt16LE(16), machineId = buf.readUInt16LE(18);
  const shoff = Number(buf.readBigUInt64LE(0x28)), shentsize = buf.readUInt16LE(0x3a), shnum = buf.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({ type: buf.readUInt32LE(o + 4), offset: Number(buf.readBigUInt64LE(o + 24)),
      size: Number(buf.readBigUInt64LE(o + 32)), link: buf.readUInt32LE(o + 40) });
  }
  const byType = (t) => sections.find((s) => s.type === t);
  const str = (sec, off) => cstring(buf, sections[sec.link].offset + off);
  const needed = [];
  const dynamic = byType(6); // SHT_DYNAMIC
  if (dynamic) {
    for (let o = dynamic.offset; o < dynamic.offset + dynamic.size; o += 16) {
      const tag = buf.readBigInt64LE(o);
      if (tag === 0n) break;
      if (tag === 1n) needed.push(str(dynamic, Number(buf.readBigUInt64LE(o + 8)))); // DT_NEEDED
    }
  }
  const versions = new Map(); // version index -> { file, name }
  const verneed = byType(0x6ffffffe); // SHT_GNU_verneed
  for (let o = verneed ? verneed.offset : -1, more = !!verneed; more;) {
    const cnt = buf.readUInt16LE(o + 2), file = str(verneed, buf.readUInt32LE(o + 4));
    for (let a = o + buf.readUInt32LE(o + 8), k = 0; k < cnt; k++) {
      versions.set(buf.readUInt16LE(a + 6) & 0x7fff, { file, name: str(verneed, buf.readUInt32LE(a + 8)) });
      a += buf.readUInt32LE(a + 12);
    }
    const next = buf.readUInt32LE(o + 12);
    more = next !== 0;
    o += next;
  }
  const dynsym = byType(11), versym = byType(0x6fffffff); // SHT_DYNSYM, SHT_GNU_versym
  const symbols = [];
  for (let i = 1; dynsym && i < dynsym.size / 24; i++) {
    const o = dynsym.offset + i * 24, info = buf[o + 4];
    const v = versym ? buf.readUInt16LE(versym.offset + i * 2) & 0x7fff : 0;
    symbols.push({ name: str(dynsym, buf.readUInt32LE(o)), bind: ['local', 'global', 'weak'][info >> 4] || String(info >> 4),
      func: (info & 0xf) === 2, defined: buf.readUInt16LE(o + 6) !== 0, version: versions.get(v) || null });
  }
  return { type: type === 3 ? 'shared object' : `type ${type}`, machine: ELF_MACHINES[machineId] || `machine ${machineId}`,
    needed, versions: [...versions.values()], symbols };
}

/** A PE32+ image: machine, DLL or not, imported DLLs, exported names. */
function readPe(buf) {
  if (buf.length < 64 || buf.toString('latin1', 0, 2) !== 'MZ') throw new Error('not a PE file');
  const pe = buf.readUInt32LE(0x3c);
  if (buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error('not a PE file');
  const machineId = buf.readUInt16LE(pe + 4), nsec = buf.readUInt16LE(pe + 6);
  const optSize = buf.readUInt16LE(pe + 20), dll = (buf.readUInt16LE(pe + 22) & 0x2000) !== 0;
  const opt = pe + 24;
  if (buf.readUInt16LE(opt) !== 0x20b) throw new Error('not a PE32+ (64-bit) image');
  const dir = (i) => ({ rva: buf.readUInt32LE(opt + 112 + i * 8), size: buf.readUInt32LE(opt + 116 + i * 8) });
  const sections = [];
  for (let i = 0, o = opt + optSize; i < nsec; i++, o += 40) {
    sections.push({ va: buf.readUInt32LE(o + 12), vsize: Math.max(buf.readUInt32LE(o + 8), buf.readUInt32LE(o + 16)),
      raw: buf.readUInt32LE(o + 20) });
  }
  const at = (rva) => {
    const s = sections.find((x) => rva >= x.va && rva < x.va + x.vsize);
    if (!s) throw new Error(`RVA 0x${rva.toString(16)} is in no section`);
    return s.raw + rva - s.va;
  };
  const imports = [];
  const imp = dir(1);
  for (let o = imp.rva ? at(imp.rva) : -1; o >= 0 && buf.readUInt32LE(o + 12) !== 0; o += 20) imports.push(cstring(buf, at(buf.readUInt32LE(o + 12))));
  const exports = [];
  const exp = dir(0);
  if (exp.rva) {
    const o = at(exp.rva), count = buf.readUInt32LE(o + 24), names = at(buf.readUInt32LE(o + 32));
    for (let i = 0; i < count; i++) exports.push(cstring(buf, at(buf.readUInt32LE(names + i * 4))));
  }
  return { machine: machineId === 0x8664 ? 'x64' : `machine 0x${machineId.toString(16)}`, dll, imports, exports };
}

/** Checks one prebuild; returns { problems: [...], summary, requiredGlibc }. */
function checkBinary(target, file, { maxGlibc = '2.28' } = {}) {
  const want = TARGETS[target];
  const problems = [];
  const buf = fs.readFileSync(file);
  const size = `${(buf.length / 1024).toFixed(0)} KiB`;
  if (want.format === 'pe') {
    const pe = readPe(buf);
    if (pe.machine !== want.machine) problems.push(`is a PE for ${pe.machine}, not ${want.machine}`);
    if (!pe.dll) problems.push('is not a DLL');
    if (!pe.exports.includes('napi_register_module_v1')) problems.push('does not export napi_register_module_v1');
    const foreign = pe.imports.filter((d) => !WINDOWS_DLL.test(d));
    if (foreign.length) problems.push(`imports ${foreign.join(', ')} (only node.exe and Windows system DLLs may be imported)`);
    return { problems, summary: `PE32+ ${pe.machine} DLL, imports ${pe.imports.join(' ')}; ${size}` };
  }
  const elf = readElf(buf);
  if (elf.machine !== want.machine) problems.push(`is an ELF for ${elf.machine}, not ${want.machine}`);
  if (elf.type !== 'shared object') problems.push(`is an ELF ${elf.type}, not a shared object`);
  if (!elf.symbols.some((s) => s.name === 'napi_register_module_v1' && s.defined && s.func && s.bind === 'global'))
    problems.push('does not export napi_register_module_v1');
  const extraLibs = elf.needed.filter((l) => !LINUX_LIBS.has(l));
  if (extraLibs.length) problems.push(`needs shared libraries beyond glibc and libgcc_s: ${extraLibs.join(', ')}`);
  const cxx = elf.versions.filter((v) => /^(GLIBCXX|CXXABI)_/.test(v.name)).map((v) => v.name);
  if (cxx.length) problems.push(`needs the system libstdc++ (${cxx.join(', ')}): it must be linked in statically`);
  const glibc = elf.versions.filter((v) => /^GLIBC_\d/.test(v.name)).map((v) => v.name.slice(6)).sort(compareVersions);
  const newestVersioned = glibc[glibc.length - 1] || null;
  const late = [];
  for (const s of elf.symbols) {
    if (s.defined || s.version || s.bind !== 'global' || NODE_SYMBOL.test(s.name)) continue;
    if (UNVERSIONED_GLIBC[s.name]) late.push(`${s.name} ${UNVERSIONED_GLIBC[s.name]}`);
    else problems.push(`references ${s.name} without a symbol version: no library it links provides it`);
  }
  const requiredGlibc = [newestVersioned, ...late.map((l) => l.split(' ')[1])].filter(Boolean).sort(compareVersions).pop() || null;
  const tooNew = glibc.filter((v) => compareVersions(v, maxGlibc) > 0);
  if (tooNew.length || (requiredGlibc && compareVersions(requiredGlibc, maxGlibc) > 0)) {
    const names = elf.symbols.filter((s) => s.version && tooNew.includes(s.version.name.slice(6))).map((s) => `${s.name}@${s.version.name}`);
    problems.push(`needs glibc ${requiredGlibc} > ${maxGlibc}${names.length ? ` (${names.join(', ')})` : ''}`);
  }
  const why = `newest versioned symbol GLIBC_${newestVersioned}${late.length ? `; ${late.join(', ')}` : ''}`;
  return { problems, requiredGlibc, newestVersioned,
    summary: `ELF ${elf.machine} shared object, glibc >= ${requiredGlibc} (${why}), needs ${elf.needed.join(' ')}; ${size}` };
}

/** Checks every target's prebuild in dir; returns { ok, lines }. */
function checkPrebuilds(dir, targets = Object.keys(TARGETS), opts = {}) {
  const lines = [], missing = [], bad = [];
  for (const target of targets) {
    if (!TARGETS[target]) throw new Error(`unknown target ${target} (known: ${Object.keys(TARGETS).join(', ')})`);
    const file = path.join(dir, target, TARGETS[target].file);
    if (!fs.existsSync(file)) { missing.push(`${target} (${file})`); continue; }
    let r;
    try { r = checkBinary(target, file, opts); } catch (e) { r = { problems: [e.message] }; }
    if (r.problems.length) bad.push(`${target}: ${file} ${r.problems.join('; ')}`);
    else lines.push(`${target}: ${path.relative(process.cwd(), file) || file}: ${r.summary}`);
  }
  if (missing.length) lines.push(`missing prebuild(s): ${missing.join(', ')}`);
  lines.push(...bad);
  if (missing.length || bad.length) lines.push('Make them with `npm run prebuilds` (all three; see README "Platforms").');
  return { ok: missing.length === 0 && bad.length === 0, lines };
}

module.exports = { TARGETS, readElf, readPe, checkBinary, checkPrebuilds, compareVersions };

if (require.main === module) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? dflt : process.argv[i + 1];
  };
  const dir = arg('--dir', path.join(__dirname, '..', 'prebuilds'));
  const targets = arg('--targets', Object.keys(TARGETS).join(',')).split(',');
  const { ok, lines } = checkPrebuilds(dir, targets, { maxGlibc: arg('--max-glibc', '2.28') });
  for (const l of lines) (ok ? console.log : console.error)(`check-prebuilds: ${l}`);
  process.exit(ok ? 0 : 1);
}
