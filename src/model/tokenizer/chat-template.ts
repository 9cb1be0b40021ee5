// Chat templates: the Jinja `chat_template` of a model's tokenizer_config.json, rendered
// with @huggingface/jinja (the renderer transformers.js uses, written for these templates).
import { Template } from "@huggingface/jinja";
import { z } from "zod";
import { DataScaleError, errorMessage } from "../../core/errors.ts";

export const ChatMessageSchema = z.object({
  role: z.string().min(1),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export interface RenderOptions {
  /** Append the assistant turn header so the model continues as the assistant (default true). */
  addGenerationPrompt?: boolean;
  /** Extra template variables (e.g. `tools`, `date_string`). */
  variables?: Record<string, unknown>;
}

export class ChatTemplate {
  readonly source: string;
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  readonly #template: Template;

  constructor(source: string, tokens: { bosToken?: string | undefined; eosToken?: string | undefined } = {}) {
    this.source = source;
    this.bosToken = tokens.bosToken;
    this.eosToken = tokens.eosToken;
    try {
      this.#template = new Template(source);
    } catch (error) {
      throw new DataScaleError("bad_chat_template", `chat_template does not parse: ${errorMessage(error)}`);
    }
  }

  render(messages: readonly ChatMessage[], options: RenderOptions = {}): string {
    try {
      return this.#template.render({
        ...options.variables,
        messages,
        add_generation_prompt: options.addGenerationPrompt ?? true,
        bos_token: this.bosToken ?? "",
        eos_token: this.eosToken ?? "",
      });
    } catch (error) {
      throw new DataScaleError("bad_chat_template", `chat_template failed to render: ${errorMessage(error)}`);
    }
  }
}

/** ChatML, the template of Qwen2 and SmolLM2; used for models we create. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/**
 * The plain format of models we train (src/train): what `plainChatPrompt` writes, as a chat
 * template. A conversation whose history is one user message is that message's text as is
 * (how prompt/response records and Task.prompt are trained); a longer history is one
 * `role: content` line per message and then `assistant: `. A final assistant message is its
 * text and EOS (what SFT trains after the prompt). BOS comes first.
 */
export const PLAIN_CHAT_TEMPLATE = [
  "{{- bos_token -}}",
  "{%- set ends_with_reply = messages | length > 0 and messages[-1]['role'] == 'assistant' -%}",
  "{%- if ends_with_reply -%}{%- set history = messages[:-1] -%}{%- else -%}{%- set history = messages -%}{%- endif -%}",
  "{%- if history | length == 1 and history[0]['role'] == 'user' -%}",
  "{{- history[0]['content'] -}}",
  "{%- else -%}",
  "{%- for m in history -%}{{- m['role'] + ': ' + m['content'] + '\\n' -}}{%- endfor -%}",
  "{%- if add_generation_prompt or ends_with_reply -%}{{- 'assistant: ' -}}{%- endif -%}",
  "{%- endif -%}",
  "{%- if ends_with_reply -%}{{- messages[-1]['content'] + eos_token -}}{%- endif -%}",
].join("");

/**
 * A conversation so far as the prompt text of the plain format (without BOS), ready for the
 * assistant's reply: see PLAIN_CHAT_TEMPLATE, which renders the same text after BOS.
 */
export function plainChatPrompt(history: readonly ChatMessage[]): string {
  const only = history.length === 1 ? history[0] : undefined;
  if (only !== undefined && only.role === "user") return only.content;
  return `${history.map((m) => `${m.role}: ${m.content}\n`).join("")}assistant: `;
}
