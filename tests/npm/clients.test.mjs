// The official openai and ollama npm clients, used as any app would, against a running
// `locara serve` (LOCARA_URL) with the model LOCARA_MODEL in its store.
import test from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Ollama } from 'ollama';

const base = process.env.LOCARA_URL;
const model = process.env.LOCARA_MODEL;
assert.ok(base && model, 'LOCARA_URL and LOCARA_MODEL must be set');

const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'no-key-needed', maxRetries: 0 });
const ollama = new Ollama({ host: base });
const messages = [{ role: 'user', content: 'Tell me a story about a dog' }];

test('openai: chat completion', async () => {
  const reply = await openai.chat.completions.create({
    model, messages, max_tokens: 12, temperature: 0,
  });
  assert.equal(reply.object, 'chat.completion');
  assert.equal(reply.choices[0].message.role, 'assistant');
  assert.ok(reply.choices[0].message.content.length > 0);
  assert.equal(reply.usage.completion_tokens, 12);
});

test('openai: chat completion streamed equals the whole one', async () => {
  const whole = await openai.chat.completions.create({
    model, messages, max_tokens: 16, temperature: 0,
  });
  const stream = await openai.chat.completions.create({
    model, messages, max_tokens: 16, temperature: 0, stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 16);
});

test('openai: completions', async () => {
  const reply = await openai.completions.create({
    model, prompt: 'Once upon a time', max_tokens: 10, temperature: 0, stop: ['\n'],
  });
  assert.equal(reply.object, 'text_completion');
  assert.ok(reply.choices[0].text.length > 0);
  assert.ok(['stop', 'length'].includes(reply.choices[0].finish_reason));
});

test('openai: models list', async () => {
  const ids = [];
  for await (const entry of openai.models.list()) ids.push(entry.id);
  assert.ok(ids.includes(model), `models: ${ids}`);
});

test('openai: an unknown model is a 404 NotFoundError', async () => {
  await assert.rejects(
    openai.chat.completions.create({ model: 'no-such-model', messages }),
    (error) => error instanceof OpenAI.NotFoundError && error.status === 404,
  );
});

test('ollama: generate', async () => {
  const reply = await ollama.generate({
    model, prompt: 'Once upon a time', options: { temperature: 0, num_predict: 10 },
  });
  assert.equal(reply.done, true);
  assert.equal(reply.eval_count, 10);
  assert.ok(reply.response.length > 0);
});

test('ollama: generate streamed', async () => {
  const whole = await ollama.generate({
    model, prompt: 'Once upon a time', options: { temperature: 0, num_predict: 10 },
  });
  const parts = await ollama.generate({
    model, prompt: 'Once upon a time', stream: true,
    options: { temperature: 0, num_predict: 10 },
  });
  let text = '';
  let last = null;
  for await (const part of parts) {
    text += part.response;
    last = part;
  }
  assert.equal(text, whole.response);
  assert.equal(last.done, true);
});

test('ollama: chat, whole and streamed', async () => {
  const options = { temperature: 0, num_predict: 12 };
  const whole = await ollama.chat({ model, messages, options });
  assert.equal(whole.message.role, 'assistant');
  const parts = await ollama.chat({ model, messages, options, stream: true });
  let text = '';
  for await (const part of parts) text += part.message.content;
  assert.equal(text, whole.message.content);
});

test('ollama: list', async () => {
  const { models } = await ollama.list();
  const entry = models.find((m) => m.name === model);
  assert.ok(entry, JSON.stringify(models));
  assert.equal(entry.details.format, 'gguf');
});

test('ollama: ps shows the loaded model', async () => {
  await ollama.generate({ model, prompt: 'Hi', options: { num_predict: 1 } });
  const { models } = await ollama.ps();
  assert.ok(models.some((m) => m.name === model), JSON.stringify(models));
});

test('ollama: an unknown model is an error', async () => {
  await assert.rejects(ollama.generate({ model: 'no-such-model', prompt: 'x' }),
    (error) => error.status_code === 404);
});
