import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Tokenizer as ReferenceTokenizer } from "@huggingface/tokenizers";
import { BpeTokenizer } from "../../src/model/tokenizer/bpe.ts";
import { trainByteLevelBpe } from "../../src/model/tokenizer/bpe-train.ts";
import { ByteTokenizer } from "../../src/model/tokenizer/byte.ts";
import { CHATML_TEMPLATE, ChatTemplate } from "../../src/model/tokenizer/chat-template.ts";
import { HfTokenizer } from "../../src/model/tokenizer/hf.ts";
import { loadTokenizerDir } from "../../src/model/tokenizer/load.ts";
import { bytesToUnicode } from "../../src/model/tokenizer/tokenizer-json.ts";

const SAMPLES = [
  "Hello, world! It's 2026 and we're testing 1234567 tokens.",
  "naïve café — déjà vu; Ünïcödé façade",
  "中文分词测试，还有日本語のテキスト。",
  "emoji 🦙🚀 and a family 👨‍👩‍👧 and flags 🇫🇷",
  "  leading spaces\n\n\ttabs\r\nand CRLF  trailing   ",
  "",
  "a",
  "lone surrogate-free \u{10FFFF} edge and NUL \u0000 byte",
];

const CORPUS = [
  "the cat sat on the mat. the dog sat on the log.",
  "What is 12 + 35? The answer is 47.",
  "Hello, world! Hello again, world.",
  "naïve café déjà vu",
  "中文分词测试",
];

test("ByteTokenizer round-trips any text and recognises its special tokens", () => {
  const tok = new ByteTokenizer();
  assert.equal(tok.vocabSize, 259);
  assert.equal(tok.bosId, 256);
  assert.equal(tok.eosId, 257);
  for (const text of SAMPLES) assert.equal(tok.decode(tok.encode(text)), text);
  const ids = tok.encode("<|bos|>hi<|eos|>");
  assert.deepEqual(ids, [256, 104, 105, 257]);
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), "hi");
  assert.throws(() => tok.decode([400]), /id 400 is out of range/);
});

test("a trained byte-level BPE tokenizer.json round-trips text, unicode and special tokens", async () => {
  const json = trainByteLevelBpe(CORPUS, {
    vocabSize: 320,
    specialTokens: ["<|begin_of_text|>", "<|im_start|>", "<|im_end|>"],
    bos: "<|begin_of_text|>",
  });
  const dir = await mkdtemp(join(tmpdir(), "tok-"));
  try {
    await writeFile(join(dir, "tokenizer.json"), JSON.stringify(json));
    await writeFile(
      join(dir, "tokenizer_config.json"),
      JSON.stringify({
        bos_token: "<|begin_of_text|>",
        eos_token: { content: "<|im_end|>", special: true },
        chat_template: CHATML_TEMPLATE,
      }),
    );
    const { tokenizer, chatTemplate, addSpecialTokens } = await loadTokenizerDir(dir);
    assert.equal(tokenizer.vocabSize, 320);
    assert.equal(tokenizer.bosId, 317);
    assert.equal(tokenizer.eosId, 319);
    assert.equal(addSpecialTokens, true);
    for (const text of [...SAMPLES, ...CORPUS]) {
      assert.equal(tokenizer.decode(tokenizer.encode(text)), text, JSON.stringify(text));
    }
    // Merges are learned and used: a corpus sentence takes far fewer tokens than bytes.
    const sentence = "the cat sat on the mat.";
    assert.ok(tokenizer.encode(sentence).length <= sentence.length / 2, "merges shorten known text");
    // Special tokens inside text are single ids and survive decoding.
    const chat = "<|im_start|>user\nnaïve 🦙<|im_end|>";
    const ids = tokenizer.encode(chat);
    assert.equal(ids[0], 318);
    assert.equal(ids.at(-1), 319);
    assert.equal(tokenizer.decode(ids), chat);
    assert.equal(tokenizer.decode(ids, { skipSpecialTokens: true }), "user\nnaïve 🦙");
    assert.deepEqual(tokenizer.withSpecialTokens([5, 6]), [317, 5, 6]);
    // Per-token bytes concatenate to the text's UTF-8, even when a token splits a character.
    const bytes = ids.slice(1, -1).flatMap((id) => [...tokenizer.tokenBytes(id)]);
    assert.deepEqual(new Uint8Array(bytes), new TextEncoder().encode("user\nnaïve 🦙"));
    assert.ok(chatTemplate !== undefined);
    assert.equal(
      chatTemplate.render([{ role: "user", content: "hi" }]),
      "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

/** A hand-written GPT-2-style tokenizer.json, so the merge order and regex are known exactly. */
function gpt2Style(): unknown {
  const chars = bytesToUnicode();
  const vocab: Record<string, number> = {};
  chars.forEach((c, i) => {
    vocab[c] = i;
  });
  const merges = ["Ġ t", "h e", "Ġt he", "l l", "e ll", "h ell"];
  let id = 256;
  for (const m of merges) vocab[m.replace(" ", "")] = id++;
  return {
    added_tokens: [{ id: 262, content: "<|endoftext|>", special: true }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, use_regex: true },
    post_processor: { type: "ByteLevel" },
    decoder: { type: "ByteLevel" },
    model: { type: "BPE", vocab, merges },
  };
}

test("GPT-2-style BPE applies merges by rank within regex pieces", () => {
  const tok = new BpeTokenizer(gpt2Style(), { eosToken: "<|endoftext|>" });
  const the = 258;
  const hell = 261;
  // " the" → Ġ t (rank 0), h e (rank 1), then Ġt he (rank 2): one token.
  assert.deepEqual(tok.encode(" the"), [the]);
  // "hello" → h e, l l, e ll? no: "he" is made first (rank 1) then "ll" (rank 3); "h ell" never forms.
  assert.deepEqual(tok.encode("hello"), [257, 259, "o".charCodeAt(0)]);
  assert.deepEqual(tok.encode("ell"), [260]);
  assert.ok(!tok.encode("hell").includes(hell));
  // The regex keeps "'s" and the space-led word apart.
  assert.deepEqual(tok.encode("it's the<|endoftext|>"), [
    "i".charCodeAt(0),
    "t".charCodeAt(0),
    "'".charCodeAt(0),
    "s".charCodeAt(0),
    the,
    262,
  ]);
  assert.equal(tok.eosId, 262);
  assert.equal(tok.decode(tok.encode("it's the<|endoftext|>")), "it's the<|endoftext|>");
});

test("bad tokenizer files get errors naming the file and field", async () => {
  assert.throws(
    () => new BpeTokenizer({ model: { type: "WordPiece" } }, { source: "x/tokenizer.json" }),
    /x\/tokenizer\.json: model\.type/,
  );
  const noByteLevel = { ...(gpt2Style() as object), pre_tokenizer: { type: "Digits" } };
  assert.throws(() => new BpeTokenizer(noByteLevel), /no ByteLevel step/);
  assert.throws(
    () => new BpeTokenizer(gpt2Style(), { bosToken: "<s>" }),
    /token '<s>' is not in the vocabulary/,
  );
  const dir = await mkdtemp(join(tmpdir(), "tok-bad-"));
  try {
    await writeFile(join(dir, "tokenizer.json"), JSON.stringify(gpt2Style()));
    await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ chat_template: 42 }));
    await assert.rejects(loadTokenizerDir(dir), /tokenizer_config\.json: chat_template/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("chat templates render Llama-3-style loops, bos_token and raise_exception", () => {
  const llama3 =
    "{{ bos_token }}{% for message in messages %}{% if message['role'] not in ['system', 'user', 'assistant'] %}" +
    "{{ raise_exception('unknown role ' + message['role']) }}{% endif %}" +
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}" +
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
  const t = new ChatTemplate(llama3, { bosToken: "<|begin_of_text|>" });
  const messages = [
    { role: "system", content: "Be brief. " },
    { role: "user", content: "2+2?" },
  ];
  assert.equal(
    t.render(messages),
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
      "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
  );
  assert.ok(!t.render(messages, { addGenerationPrompt: false }).endsWith("assistant<|end_header_id|>\n\n"));
  assert.throws(() => t.render([{ role: "robot", content: "x" }]), /failed to render: .*unknown role robot/);
  assert.throws(() => new ChatTemplate("{% for x in %}"), /chat_template does not parse/);
});

test("our byte-level BPE encodes exactly as @huggingface/tokenizers (the reference port) does", () => {
  const corpus = [
    ...CORPUS,
    ...SAMPLES,
    "It's 12345 o'clock, isn't it?\n\n  Yes—3.14159!",
    "def f(x):\n    return x ** 2  # square",
  ];
  const json = trainByteLevelBpe(corpus, { vocabSize: 400, specialTokens: ["<|im_start|>", "<|im_end|>"] });
  const ours = new BpeTokenizer(json);
  const reference = new ReferenceTokenizer(json as object, { clean_up_tokenization_spaces: false });
  const texts = [
    ...corpus,
    "<|im_start|>user\nnaïve 🦙 THE CAT'S 2026<|im_end|>",
    "\u00a0\u2003spaces\u3000and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
  ];
  for (const text of texts) {
    if (text.length === 0) continue;
    const ids = ours.encode(text);
    assert.deepEqual(ids, reference.encode(text, { add_special_tokens: false }).ids, JSON.stringify(text));
    assert.equal(reference.decode(ids), ours.decode(ids));
  }
});

/** A Llama-2-style SentencePiece BPE (Metaspace normalizer, byte fallback), as tokenizer.json. */
function sentencePieceStyle(): unknown {
  const vocab: Record<string, number> = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`] = 3 + b;
  let id = 259;
  for (const p of [
    "▁",
    "h",
    "e",
    "l",
    "o",
    "w",
    "r",
    "d",
    "▁h",
    "el",
    "▁hel",
    "lo",
    "▁hello",
    "▁w",
    "or",
    "▁wor",
    "ld",
    "▁world",
  ]) {
    vocab[p] = id++;
  }
  return {
    added_tokens: [
      { id: 0, content: "<unk>", special: true },
      { id: 1, content: "<s>", special: true },
      { id: 2, content: "</s>", special: true },
    ],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: "▁" },
        { type: "Replace", pattern: { String: " " }, content: "▁" },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "<s>", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "▁" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      unk_token: "<unk>",
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges: ["▁ h", "e l", "▁h el", "l o", "▁hel lo", "▁ w", "o r", "▁w or", "l d", "▁wor ld"],
    },
  };
}

test("SentencePiece-style tokenizer.json (Llama 2, Mistral) loads through the tokenizers.js fallback", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tok-sp-"));
  try {
    await writeFile(join(dir, "tokenizer.json"), JSON.stringify(sentencePieceStyle()));
    await writeFile(
      join(dir, "tokenizer_config.json"),
      JSON.stringify({ bos_token: "<s>", eos_token: "</s>" }),
    );
    const { tokenizer, implementation } = await loadTokenizerDir(dir);
    assert.equal(implementation, "tokenizers.js");
    assert.ok(tokenizer instanceof HfTokenizer);
    assert.equal(tokenizer.bosId, 1);
    assert.equal(tokenizer.eosId, 2);
    assert.deepEqual(tokenizer.encode("hello world"), [271, 276]);
    assert.deepEqual(tokenizer.withSpecialTokens(tokenizer.encode("hello world")), [1, 271, 276]);
    // Characters outside the vocabulary fall back to their UTF-8 bytes and decode back.
    const text = "héllo 🦙 world";
    const ids = tokenizer.encode(text);
    assert.ok(
      ids.some((i) => i >= 3 && i < 259),
      "byte-fallback tokens used",
    );
    assert.equal(tokenizer.decode(ids), text);
    assert.equal(tokenizer.decode([1, ...tokenizer.encode("hello")], { skipSpecialTokens: true }), "hello");
  } finally {
    await rm(dir, { recursive: true });
  }
});
