/**
 * Expected `sev-snp-measure` outputs, side by side with the arguments that produced them.
 *
 * Computed by running virtee/sev-snp-measure at commit 8f2b337e38bc83f87cd30f3253cdfe8e3e12cc3a
 * (version 0.0.13) as `python3 sev-snp-measure.py <args>` with Debian 12's python3 3.11 and
 * python3-cryptography 38.0.4, path tokens replaced by:
 *   {fixtures}     test/vectors/sev-snp-measure/tests/fixtures (upstream's OVMF suffixes)
 *   {synth}        files written by test/sev/measure-fixtures.ts `writeSynthImages` (deterministic)
 *   {ovmf-fd}, {ovmf-code}, {ovmf-code-4m}
 *                  Debian 12 package ovmf 2022.11-6+deb12u2: /usr/share/ovmf/OVMF.fd,
 *                  /usr/share/OVMF/OVMF_CODE.fd, /usr/share/OVMF/OVMF_CODE_4M.fd (SHA-256 below)
 * `stdout` is exactly what sev-snp-measure printed. These are the byte-for-byte expectations for
 * `sevcheck measure` (test/cli/measure.test.ts) and for the pure functions (test/sev/measure-*.test.ts).
 */

export interface MeasureVector {
  name: string;
  args: string[];
  stdout: string;
}

/** SHA-256 of the Debian images the DEBIAN_VECTORS were computed from. */
export const DEBIAN_OVMF_SHA256: Readonly<Record<string, string>> = {
  '/usr/share/ovmf/OVMF.fd': '7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773',
  '/usr/share/OVMF/OVMF_CODE.fd': 'd9b568def24088c92f34b5479e0ed7e44d0a4d4cea8a0f5716719180bba48106',
  '/usr/share/OVMF/OVMF_CODE_4M.fd': 'b157d97b1f69729514feb7f201d2cbe4957f23ab77920e361fe9f822ba49ca4c',
};

export const DEBIAN_PATHS: Readonly<Record<string, string>> = {
  '{ovmf-fd}': '/usr/share/ovmf/OVMF.fd',
  '{ovmf-code}': '/usr/share/OVMF/OVMF_CODE.fd',
  '{ovmf-code-4m}': '/usr/share/OVMF/OVMF_CODE_4M.fd',
};

/** Vectors over upstream's fixtures and the synthetic images. */
export const VECTORS: readonly MeasureVector[] = [
  {
    name: "amdsev snp EPYC-v4 1 vcpu kernel+initrd+append 0x21",
    args: ["--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin", "--kernel", "{synth}/synth-kernel.bin", "--initrd", "{synth}/synth-initrd.bin", "--append", "console=ttyS0 root=/dev/vda1 quiet é", "--guest-features", "0x21"],
    stdout: "c0cb1599d006f4113239740a9bc7bff95c2ac051e6af5b8fbf4bd21302a2a893f42552bd50a68853338c16da3ff1c1a5\n",
  },
  {
    name: "amdsev snp EPYC-Milan 4 vcpus kernel only",
    args: ["--mode", "snp", "--vcpus", "4", "--vcpu-type", "EPYC-Milan", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin", "--kernel", "{synth}/synth-kernel.bin"],
    stdout: "87c2cc791b7c09862237ba96ba349efe682912afd556c43ded4a9499ae128237ae18c0ba79a66afbd53f2bfdaa87d337\n",
  },
  {
    name: "amdsev snp EPYC-Genoa 2 vcpus ec2 kernel+initrd",
    args: ["--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-Genoa", "--vmm-type", "ec2", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin", "--kernel", "{synth}/synth-kernel.bin", "--initrd", "{synth}/synth-initrd.bin"],
    stdout: "bd51df30741ef556504679809dc581abd4a447eace04ec61aa054df6941af654f9fd0d7ceb76076a9274cc8601d2ec05\n",
  },
  {
    name: "amdsev snp gce 3 vcpus no vcpu sig",
    args: ["--mode", "snp", "--vcpus", "3", "--vmm-type", "gce", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin"],
    stdout: "a0bb6392c0c3117804319613cba886884883ffd71cc1dbc9245aaafc18c27c4ca766185ded06cd688c49809140371d7e\n",
  },
  {
    name: "amdsev snp EPYC-Turin 16 vcpus base64",
    args: ["--mode", "snp", "--vcpus", "16", "--vcpu-type", "EPYC-Turin", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin", "--output-format", "base64"],
    stdout: "nLMZP7DtFzu0pPI5HMWwzH5PL5tZnS2Bg9ZwfansBVqOiZY8afWpfv7gIs4Xs8/1\n",
  },
  {
    name: "amdsev snp precomputed ovmf hash EPYC-Rome 2 vcpus kernel",
    args: ["--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-Rome", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin", "--snp-ovmf-hash", "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74", "--kernel", "{synth}/synth-kernel.bin", "--initrd", "{synth}/synth-initrd.bin", "--append", "console=ttyS0 root=/dev/vda1 quiet é"],
    stdout: "06ef5355f28fbaa039a654e7a09feba178c3a0feeb392b6e9bdb0c0be8f3560779bf7e32d06aa825949fb077bc30a7e9\n",
  },
  {
    name: "amdsev snp vcpu-sig 0xa00f11 features 0x3f",
    args: ["--mode", "snp", "--vcpus", "2", "--vcpu-sig", "0xa00f11", "--guest-features", "0x3f", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin"],
    stdout: "7d5f4c02ccfbb758b8709b517eddf5519412ed9f1fafe43b9e249e9f4ad114ed352306120859ff5ca4fa215b362fef1a\n",
  },
  {
    name: "amdsev snp family 26 model 17 stepping 0 verbose",
    args: ["--mode", "snp", "--vcpus", "2", "--vcpu-family", "26", "--vcpu-model", "17", "--vcpu-stepping", "0", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin", "-v"],
    stdout: "Calculated SEV_SNP guest measurement: c736ba0260b6b6f969b3ea34d9abf74d484c8ee2fee0229902f3047f3d098f44d8eeb2c011efb0f90d985f17b7a622d4\n",
  },
  {
    name: "amdsev seves EPYC-Rome 2 vcpus kernel+initrd+append",
    args: ["--mode", "seves", "--vcpus", "2", "--vcpu-type", "EPYC-Rome", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin", "--kernel", "{synth}/synth-kernel.bin", "--initrd", "{synth}/synth-initrd.bin", "--append", "console=ttyS0 root=/dev/vda1 quiet é"],
    stdout: "3ac096def6ad96560638cc35611df28a0b4eb54f1aafd487273732e251d9dc10\n",
  },
  {
    name: "amdsev seves ec2 2 vcpus",
    args: ["--mode", "seves", "--vcpus", "2", "--vmm-type", "ec2", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin"],
    stdout: "07098e83424ff68d330b4f84b52b5def1c74d7e147586c731266eacfb9ae74cb\n",
  },
  {
    name: "amdsev seves verbose base64",
    args: ["--mode", "seves", "--vcpus", "1", "--vcpu-type", "EPYC", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin", "-v", "--output-format", "base64"],
    stdout: "Calculated SEV_ES guest measurement: +fCmKXage11YMC0KC4bfjAw1EVBU3aWjh2RSekY2+h8=\n",
  },
  {
    name: "amdsev sev kernel+initrd+append",
    args: ["--mode", "sev", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin", "--kernel", "{synth}/synth-kernel.bin", "--initrd", "{synth}/synth-initrd.bin", "--append", "console=ttyS0 root=/dev/vda1 quiet é"],
    stdout: "ba0693ebe319ee20b8b23febc93898263fbfc15119cd4598360424e824ba8003\n",
  },
  {
    name: "amdsev sev verbose",
    args: ["--mode", "sev", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin", "-v"],
    stdout: "Calculated SEV guest measurement: 8f765dfabc127fc0a938a0744a3103ec15864d7d794eb4c398aa976b6d6ab16c\n",
  },
  {
    name: "amdsev snp:ovmf-hash",
    args: ["--mode", "snp:ovmf-hash", "--ovmf", "{fixtures}/ovmf_AmdSev_suffix.bin"],
    stdout: "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74\n",
  },
  {
    name: "ovmfx64 snp vcpu-sig 0x800f12",
    args: ["--mode", "snp", "--vcpus", "1", "--vcpu-sig", "0x800f12", "--ovmf", "{fixtures}/ovmf_OvmfX64_suffix.bin"],
    stdout: "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005\n",
  },
  {
    name: "ovmfx64 seves EPYC 1 vcpu",
    args: ["--mode", "seves", "--vcpus", "1", "--vcpu-type", "EPYC", "--ovmf", "{fixtures}/ovmf_OvmfX64_suffix.bin"],
    stdout: "24527f02fdadc908f11d7cf099d3570e49304a93bda7687e256b5a183876a648\n",
  },
  {
    name: "ovmfx64 sev",
    args: ["--mode", "sev", "--ovmf", "{fixtures}/ovmf_OvmfX64_suffix.bin"],
    stdout: "b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da\n",
  },
  {
    name: "synth snp kernel hashes at page offset 0x400",
    args: ["--mode", "snp", "--vcpus", "3", "--vcpu-type", "EPYC-Milan-v2", "--ovmf", "{synth}/synth-ovmf.bin", "--kernel", "{synth}/synth-kernel.bin", "--initrd", "{synth}/synth-initrd.bin", "--append", "console=ttyS0 root=/dev/vda1 quiet é"],
    stdout: "ec3bd484397aff1245a5fd7283504639b26f41d150b71be64d7facfe9f4c631071e5ee14d3ed47806789d4b30776568f\n",
  },
  {
    name: "synth snp no kernel ec2",
    args: ["--mode", "snp", "--vcpus", "2", "--vmm-type", "ec2", "--ovmf", "{synth}/synth-ovmf.bin"],
    stdout: "8fe430dedda632461213d7ddc4094976fb5732540e9a28d68a423ec08baf450164cdea952cccc5e4ee3926533dc6a4da\n",
  },
  {
    name: "synth snp gce",
    args: ["--mode", "snp", "--vcpus", "2", "--vmm-type", "gce", "--ovmf", "{synth}/synth-ovmf.bin", "--guest-features", "0x21"],
    stdout: "14345e5e8f09e56cb4f7f2bb69004fc96eaad7d2bfbb515b5139539900a5ea5a11cf1a1740f2a5670e0ee677ee0d37ca\n",
  },
  {
    name: "synth seves kernel",
    args: ["--mode", "seves", "--vcpus", "2", "--vcpu-type", "EPYC-Genoa-v1", "--ovmf", "{synth}/synth-ovmf.bin", "--kernel", "{synth}/synth-kernel.bin"],
    stdout: "d3aa1a8806013e9102596aa5adcd9b60bb8ecd9ba0ce3de80cfdb559911ce588\n",
  },
  {
    name: "synth sev kernel+initrd",
    args: ["--mode", "sev", "--ovmf", "{synth}/synth-ovmf.bin", "--kernel", "{synth}/synth-kernel.bin", "--initrd", "{synth}/synth-initrd.bin"],
    stdout: "0d7e2c34b5813facc27acebeb90ca4d58c1efa8f59c6dfbf61eb2043ec7d188d\n",
  },
  {
    name: "synth svsm 2 vcpus",
    args: ["--mode", "snp:svsm", "--vcpus", "2", "--vcpu-type", "EPYC-Milan", "--ovmf", "{synth}/synth-ovmf.bin", "--svsm", "{synth}/synth-svsm.bin", "--vars-size", "540672"],
    stdout: "9900a2cb5084ced7e8286360a7c31dbbe273bbaf2e497ebd5a5b68f5c6172c38475e8a32a6182e33e25c912d3722a55e\n",
  },
];

/** Vectors over Debian's OVMF images (tests check the image hashes above first). */
export const DEBIAN_VECTORS: readonly MeasureVector[] = [
  {
    name: "debian OVMF.fd snp:ovmf-hash",
    args: ["--mode", "snp:ovmf-hash", "--ovmf", "{ovmf-fd}"],
    stdout: "ba2c811512ef868474f239a21f7d7057d65a20de87a003c4f116e4fb1573183bfbcd75c3e99b2f558575a5d0094f73c6\n",
  },
  {
    name: "debian OVMF.fd snp EPYC-Milan 4 vcpus",
    args: ["--mode", "snp", "--vcpus", "4", "--vcpu-type", "EPYC-Milan", "--ovmf", "{ovmf-fd}"],
    stdout: "e9c10ab98f8086bf4a4993dcdc1f768b1128bcb02301d1791f1d3274329e790db2d12a301d66d99a462a13b5d87e2840\n",
  },
  {
    name: "debian OVMF.fd seves EPYC-Rome 2 vcpus",
    args: ["--mode", "seves", "--vcpus", "2", "--vcpu-type", "EPYC-Rome", "--ovmf", "{ovmf-fd}"],
    stdout: "11847fbd31c25fc9be1910e9f3ae763d4cef89dc2394eee3c84fe17f66aab50b\n",
  },
  {
    name: "debian OVMF.fd sev",
    args: ["--mode", "sev", "--ovmf", "{ovmf-fd}"],
    stdout: "7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773\n",
  },
  {
    name: "debian OVMF_CODE.fd snp family 25/1/1 2 vcpus ec2",
    args: ["--mode", "snp", "--vcpus", "2", "--vcpu-family", "25", "--vcpu-model", "1", "--vcpu-stepping", "1", "--vmm-type", "ec2", "--ovmf", "{ovmf-code}"],
    stdout: "d678fcd1097a1ac27f2ee75dac7c37a002c9aa5e3e407c6a284b780a99af8f39df3283f1ed05526483cc5684f9b28630\n",
  },
  {
    name: "debian OVMF_CODE.fd snp svsm-less gce 1 vcpu",
    args: ["--mode", "snp", "--vcpus", "1", "--vmm-type", "gce", "--ovmf", "{ovmf-code}"],
    stdout: "b487c10cb362273ab887963c18e1a49d6a9a814e634e6406fb92d0130f44bfc252b46a1d697405ded17722336d8be609\n",
  },
  {
    name: "debian OVMF_CODE_4M.fd snp EPYC-Genoa 4 vcpus (no SEV metadata)",
    args: ["--mode", "snp", "--vcpus", "4", "--vcpu-type", "EPYC-Genoa", "--ovmf", "{ovmf-code-4m}"],
    stdout: "326272848d4d97c75915b0160d91a114861b0148d3343077d671c8b387425a6b35302d6c76a22883010b58f513709ce4\n",
  },
  {
    name: "debian OVMF_CODE_4M.fd snp:ovmf-hash",
    args: ["--mode", "snp:ovmf-hash", "--ovmf", "{ovmf-code-4m}"],
    stdout: "9fcd8d0a1e49276166981a44bd5487d27508b5f3161c10d316342e56580c498a75420eca6119e10ad6af5849d107345d\n",
  },
  {
    name: "debian OVMF_CODE_4M.fd seves EPYC 1 vcpu",
    args: ["--mode", "seves", "--vcpus", "1", "--vcpu-type", "EPYC", "--ovmf", "{ovmf-code-4m}"],
    stdout: "c368889b1cfe678e2ebe3ef5e3ee5717563cae665c09ca366fe52a56b9f62d63\n",
  },
  {
    name: "debian OVMF_CODE_4M.fd sev",
    args: ["--mode", "sev", "--ovmf", "{ovmf-code-4m}"],
    stdout: "b157d97b1f69729514feb7f201d2cbe4957f23ab77920e361fe9f822ba49ca4c\n",
  },
];

/**
 * Published expectations from upstream tests/test_guest.py (same commit), for the pure API:
 * kernel "/dev/null" and initrd "/dev/null" mean empty files.
 */
export const PUBLISHED = {
  ovmfHashAmdSev: '086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74',
  snpDefault: '803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977',
  snpFeatureSnpOnly: '6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa',
  snpOvmfHashEmptyCmdline0x21: '329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198',
  snpOvmfHashEmptyCmdline0x1: 'ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5',
  snpEc2Default: '0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb',
  snpEc2SnpOnly: '0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056',
  snpGce1: '5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e',
  snpGce4: '5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d',
  snpNoKernel0x21: 'e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b',
  snpNoKernel0x1: '19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d',
  snp4Vcpus0x21: '4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942',
  snp4Vcpus0x1: '5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5',
  snpOvmfX64NoKernel0x21: '28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385',
  snpOvmfX64NoKernel0x1: 'da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005',
  seves1: '13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c',
  seves4: '0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91',
  sevKernelAppend: '82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff',
  sevKernelOnly: '77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898',
  sevOvmfX64: 'b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da',
  /** tests/fixtures/svsm_ovmf.fd + svsm.bin (test/vectors/sev-snp-measure/tests/fixtures), 4 and 2 vCPUs EPYC-v4, vars size 540672. */
  svsm4: '27d154c27b7b359c935e250ec6fee72aa0ae8c1225e3b0e1cf46a9567e938066d7d6f94bbdc4a857818bdb79277a44b2',
  svsm2: '9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7',
} as const;

/**
 * LAUNCH_MEASURE / LAUNCH_SECRET vectors, computed with a Python 3.11 + python3-cryptography 38
 * transcription of libvirt tools/virt-qemu-sev-validate (commit
 * 120724bc6d1c2f8c029e67bd91335b48c243404c) `get_measurements`, `GUIDTable.build`,
 * `SecretsTable` and `build_secrets`, with the IV fixed instead of os.urandom(16).
 * Test keys only: TIK = 10 11 … 1f, TEK = 20 21 … 2f, MNONCE = a0 … af, IV = c0 … cf.
 * Digests are SHA-256 launch digests: the AmdSev fixture in mode sev
 * (no kernel) and PUBLISHED.seves4.
 */
export const LIBVIRT = {
  tik: Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i),
  tek: Uint8Array.from({ length: 16 }, (_, i) => 0x20 + i),
  mnonce: Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i),
  iv: Uint8Array.from({ length: 16 }, (_, i) => 0xc0 + i),
  sev: {
    digest: '8f765dfabc127fc0a938a0744a3103ec15864d7d794eb4c398aa976b6d6ab16c',
    apiMajor: 0,
    apiMinor: 24,
    build: 15,
    policy: 0x3,
    measurementB64: 'jvhXqBsc6CI8e1Hsc5LwC+wyKoOzsib2G393wulseZmgoaKjpKWmp6ipqqusra6v',
  },
  seves: {
    digest: '0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91',
    apiMajor: 1,
    apiMinor: 52,
    build: 4,
    policy: 0x5,
    measurementB64: 'K8cw7oaCc//o7AC9l9Nr66TqYRDNK/FvEPhVTv50bF2goaKjpKWmp6ipqqusra6v',
  },
  /** Secrets: luks-key = "correct horse battery staple", 0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9 = bytes 0..39; wrapped for the seves launch. */
  secret: {
    tableHex:
      '42f5741edd71664d963eef4287ff173b80000000e5696873f084734992ec06879ce3da0b30000000636f727265637420686f727365206261747465727920737461706c653d2c1b0a5f4e61408293a4b5c6d7e8f93c000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262700000000000000000000000000000000',
    headerB64: 'AAAAAMDBwsPExcbHyMnKy8zNzs9Q4ofq3Eu7ug0zb6rYmLUL/aBvQje9cNXfHDMn5AmpTA==',
    secretB64:
      'Gj9caYe3LxrrnFBan5tvjg41z/VhPV3AIoqK70TkPBtyiPamF6XOl8Wu+8HCOOfCFhrBUkTd1MVi9k9atFfaMoMS+LqxJTnKHq3WBaiCTAuCAJZV/zaH6o3MDKxCXj/7hDtC7eYSpL21o9fXglQ6avxevNqtvqNUb/ELyI/qt5Oq/OSwR7VLssNsAEQ4mJNB',
  },
  /** luks-key = 8 × "x": table is exactly 48 bytes, so virt-qemu-sev-validate adds a full 16 bytes of padding. */
  alignedTableHex:
    '42f5741edd71664d963eef4287ff173b30000000e5696873f084734992ec06879ce3da0b1c000000787878787878787800000000000000000000000000000000',
} as const;
