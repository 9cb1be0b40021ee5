// Trained models as Hugging Face model directories: the byte tokenizer as a tokenizer.json
// that encodes id for id like ByteTokenizer (ours and the reference tokenizers port), the
// plain chat template as Jinja and as code, and decoders — causal LM, Qwen2-style biases,
// a Bradley–Terry reward head as transformers' `score`, a value head — saved and loaded back
// bit for bit. transformers itself is checked by hand (docs/model-io.md) and, through its
// layout, by torch.test.ts.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Tokenizer as ReferenceTokenizer } from "@huggingface/tokenizers";
import fc from "fast-check";
import { HEADS_FILE } from "../../src/model/checkpoint.ts";
import { Decoder } from "../../src/model/decoder.ts";
import { loadDecoderDir, saveDecoderDir } from "../../src/model/decoder-step-model.ts";
import { createTsKernel } from "../../src/model/kernels/ts.ts";
import { paramLayout } from "../../src/model/params.ts";
import { parseSafetensors, serializeSafetensors } from "../../src/model/safetensors.ts";
import { ByteTokenizer } from "../../src/model/tokenizer/byte.ts";
import {
  type ChatMessage,
  ChatTemplate,
  PLAIN_CHAT_TEMPLATE,
  plainChatPrompt,
} from "../../src/model/tokenizer/chat-template.ts";
import { hfTokenizerFiles } from "../../src/model/tokenizer/export.ts";
import { loadTokenizerDir } from "../../src/model/tokenizer/load.ts";
import { loadDecoder } from "../../src/train/models.ts";

const dir = mkdtempSync(join(tmpdir(), "hf-export-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const byte = new ByteTokenizer();
const kernel = createTsKernel("f32");

const TEXTS = [
  "7+5=",
  "",
  "héllo wörld ✓ 你好 🙂\n\ttabs",
  "a<|eos|>b<|bos|><|pad|>",
  "<|bos|",
  "\u0000\u00ff\u00a0 x \r\n",
  "  leading and trailing  ",
];

test("the byte tokenizer's tokenizer.json encodes and decodes like ByteTokenizer, here and in the reference port", async () => {
  const files = hfTokenizerFiles(byte, { modelMaxLength: 64 });
  const tdir = join(dir, "tok");
  mkdirSync(tdir, { recursive: true });
  writeFileSync(join(tdir, "tokenizer.json"), JSON.stringify(files.tokenizerJson));
  writeFileSync(join(tdir, "tokenizer_config.json"), JSON.stringify(files.tokenizerConfig));
  const loaded = await loadTokenizerDir(tdir);
  assert.equal(loaded.implementation, "byte-level-bpe");
  assert.equal(loaded.tokenizer.vocabSize, byte.vocabSize);
  assert.deepEqual([loaded.tokenizer.bosId, loaded.tokenizer.eosId], [byte.bosId, byte.eosId]);
  assert.equal(files.padTokenId, 258);
  const reference = new ReferenceTokenizer(files.tokenizerJson as object, files.tokenizerConfig);
  const check = (text: string) => {
    const ids = byte.encode(text);
    assert.deepEqual(loaded.tokenizer.encode(text), ids, JSON.stringify(text));
    assert.deepEqual(loaded.tokenizer.withSpecialTokens(ids), [256, ...ids], "BOS from the post-processor");
    assert.equal(loaded.tokenizer.decode(ids), byte.decode(ids));
    if (text.length === 0) return;
    assert.deepEqual(reference.encode(text, { add_special_tokens: false }).ids, ids, JSON.stringify(text));
    assert.deepEqual(reference.encode(text).ids, [256, ...ids]);
    assert.equal(reference.decode(ids), byte.decode(ids));
  };
  for (const t of TEXTS) check(t);
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(fc.string({ unit: "grapheme" }), fc.constantFrom("<|bos|>", "<|eos|>", "<|pad|>", "<|")),
      ),
      (parts) => check(parts.join("")),
    ),
    { numRuns: 300 },
  );
});

const message = fc.record({
  role: fc.constantFrom("user", "assistant", "system", "tool"),
  content: fc.string({ unit: "grapheme", maxLength: 12 }),
});

test("the plain chat template renders what plainChatPrompt (the trainers' prompt) gives, after BOS", () => {
  const t = new ChatTemplate(PLAIN_CHAT_TEMPLATE, { bosToken: "<|bos|>", eosToken: "<|eos|>" });
  assert.equal(t.render([{ role: "user", content: "3+4=" }]), "<|bos|>3+4=");
  assert.equal(
    t.render([
      { role: "user", content: "say:" },
      { role: "assistant", content: "aei" },
    ]),
    "<|bos|>say:aei<|eos|>",
  );
  fc.assert(
    fc.property(fc.array(message, { maxLength: 5 }), fc.boolean(), (messages: ChatMessage[], gen) => {
      const last = messages.at(-1);
      const reply = last?.role === "assistant";
      const history = reply ? messages.slice(0, -1) : messages;
      const rendered = t.render(messages, { addGenerationPrompt: gen });
      if (!reply && !gen && !(history.length === 1 && history[0]!.role === "user")) {
        // Without a generation prompt a role-line history stops before "assistant: ".
        assert.equal(rendered, `<|bos|>${plainChatPrompt(history).slice(0, -"assistant: ".length)}`);
        return;
      }
      assert.equal(rendered, `<|bos|>${plainChatPrompt(history)}${reply ? `${last.content}<|eos|>` : ""}`);
    }),
    { numRuns: 300 },
  );
});

function randomized(config: ConstructorParameters<typeof Decoder>[0], seed: number): Decoder {
  const m = new Decoder(config, kernel, { seed });
  // Heads start at zero; give every parameter a value so the round trip is tested on all of them.
  for (let i = 0; i < m.params.length; i++) m.params[i] = Math.sin(i * 0.37 + seed) * 0.1;
  return m;
}

const SHAPE = { vocabSize: byte.vocabSize, dim: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, maxSeqLen: 32 };

for (const [name, extra, arch, heads] of [
  ["causal LM", {}, "LlamaForCausalLM", false],
  ["tied model with q/k/v biases", { tiedEmbeddings: true, qkvBias: true }, "Qwen2ForCausalLM", false],
  ["Bradley–Terry reward model", { rewardHead: true }, "LlamaForSequenceClassification", true],
  ["PPO policy with a value head", { valueHead: true }, "LlamaForCausalLM", true],
] as const) {
  test(`a ${name} saves as a Hugging Face model directory and loads back bit for bit`, async () => {
    const m = randomized({ ...SHAPE, ...extra }, 3);
    const out = join(dir, name.replace(/\W+/g, "-"));
    saveDecoderDir(out, m, byte);
    for (const f of [
      "config.json",
      "model.safetensors",
      "tokenizer.json",
      "tokenizer_config.json",
      "generation_config.json",
    ])
      assert.ok(existsSync(join(out, f)), f);
    assert.equal(
      existsSync(join(out, HEADS_FILE)),
      heads,
      "heads.safetensors only for what transformers has no place for",
    );
    assert.ok(!existsSync(`${out}.tmp`));
    const hf = JSON.parse(readFileSync(join(out, "config.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(hf["architectures"], [arch]);
    assert.equal(hf["model_type"], arch.startsWith("Qwen2") ? "qwen2" : "llama");
    assert.deepEqual([hf["bos_token_id"], hf["eos_token_id"], hf["pad_token_id"]], [256, 257, 258]);
    if (arch.endsWith("Classification")) assert.equal(hf["num_labels"], 1);
    const tc = JSON.parse(readFileSync(join(out, "tokenizer_config.json"), "utf8")) as Record<
      string,
      unknown
    >;
    assert.equal(tc["chat_template"], PLAIN_CHAT_TEMPLATE);
    assert.equal(tc["model_max_length"], 32);
    for (const back of [loadDecoderDir(out, kernel), loadDecoder(out, {}, 1, kernel)]) {
      assert.deepEqual(back.config, m.config);
      assert.deepEqual(back.params, m.params, "every parameter, heads included, round-trips exactly");
    }
  });
}

test("a reward head's bias, which transformers' score head lacks, is kept beside it when it is not 0", () => {
  const m = randomized({ ...SHAPE, rewardHead: true }, 4);
  const layout = paramLayout(m.config).entries.find((e) => e.name === "reward_head.bias")!;
  m.params[layout.offset] = 0;
  const zero = join(dir, "bias-zero");
  saveDecoderDir(zero, m, byte);
  assert.ok(!existsSync(join(zero, HEADS_FILE)), "a zero bias is transformers' bias-free head exactly");
  assert.deepEqual(loadDecoderDir(zero, kernel).params, m.params);
});

test("a model with a tokenizer that has no writer is still saved (weights and config), with a note", () => {
  const m = randomized(SHAPE, 7);
  const out = join(dir, "other-tokenizer");
  const other = { vocabSize: 259, bosId: 256, eosId: 257, encode: () => [], decode: () => "" };
  saveDecoderDir(out, m, other);
  assert.ok(existsSync(join(out, "model.safetensors")) && !existsSync(join(out, "tokenizer.json")));
  assert.deepEqual(loadDecoderDir(out, kernel).params, m.params);
  assert.throws(() => hfTokenizerFiles(other), /implemented for the byte tokenizer only/);
});

test("a sequence classifier without an LM head (as transformers saves one) loads for /classify", async () => {
  const m = randomized({ ...SHAPE, rewardHead: true }, 6);
  const out = join(dir, "no-lm-head");
  saveDecoderDir(out, m, byte);
  const st = parseSafetensors(readFileSync(join(out, "model.safetensors")));
  st.tensors.delete("lm_head.weight");
  writeFileSync(join(out, "model.safetensors"), serializeSafetensors(st.tensors, { dtype: "F32" }));
  const back = loadDecoderDir(out, kernel);
  const ids = Int32Array.from([256, 1, 2, 3, 257]);
  const want = m.forward(ids, 1, 5).rewards!;
  const got = back.forward(ids, 1, 5).rewards!;
  assert.deepEqual(got, want, "the reward head reads the same hidden states");
});

test("a model directory of the layout before HF export (config.json + params.bin) still loads", () => {
  const m = randomized(SHAPE, 5);
  const legacy = join(dir, "legacy");
  mkdirSync(legacy, { recursive: true });
  writeFileSync(join(legacy, "config.json"), JSON.stringify(m.config));
  writeFileSync(
    join(legacy, "params.bin"),
    new Uint8Array(m.params.buffer, m.params.byteOffset, m.params.byteLength),
  );
  const back = loadDecoder(legacy, { valueHead: true }, 1, kernel);
  assert.ok(back.config.valueHead);
  assert.deepEqual(back.params.subarray(0, m.params.length), m.params);
  // serve-model and the embedded backend read the HF layout only, and say how to convert.
  assert.throws(() => loadDecoderDir(legacy, kernel), /before models were saved in the Hugging Face layout/);
  const converted = join(dir, "converted");
  saveDecoderDir(converted, loadDecoder(legacy, {}, 1, kernel), byte);
  assert.deepEqual(loadDecoderDir(converted, kernel).params, m.params);
});
