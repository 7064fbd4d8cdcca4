/**
 * The ink components of the recovery prompts. Each is a small controlled view that reports one
 * answer through `onDone`; Esc and Ctrl+C answer "cancelled" (`undefined` or `false`).
 * Rendered only through src/ui/ink/prompter.ts, which loads lazily on a TTY.
 */
import { Box, Text, useInput, useStdout } from 'ink';
import { useRef, useState } from 'react';
import { indentWrap, outputWidth } from '../../report/layout.js';

/** One entry of a selection list. */
export interface SelectItem {
  label: string;
  hint?: string;
}

function isCancel(input: string, key: { escape?: boolean; ctrl?: boolean }): boolean {
  return Boolean(key.escape) || (Boolean(key.ctrl) && input === 'c');
}

/**
 * One answer from one keypress or one pasted chunk: a terminal delivers a paste as one chunk, so
 * `quiz-1\r\n` is the text `quiz-1` and Enter. Returns the text before the first line break
 * (`submitted`: a line break or Enter ended it) or the whole chunk (`submitted` false).
 */
export function readChunk(input: string, key: { return?: boolean }): { text: string; submitted: boolean } {
  const end = input.search(/[\r\n]/);
  if (end >= 0) return { text: input.slice(0, end), submitted: true };
  return { text: input, submitted: Boolean(key.return) };
}

/** Printable characters only: a paste can carry control characters (the rest is dropped). */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

/** Pick one item with ↑/↓ (or j/k) and Enter; Esc or Ctrl+C cancels (`undefined`). */
export function Select({ message, items, onDone }: { message: string; items: SelectItem[]; onDone: (index: number | undefined) => void }) {
  const { stdout } = useStdout();
  // Hints are wrapped at word boundaries to the terminal's width by the layout engine.
  const width = outputWidth(stdout);
  // The highlighted item and the answer in a ref as well as in state: ↓ then Enter faster than a
  // render must choose the item ↓ moved to, not the one the last render showed.
  const state = useRef({ index: 0, done: false });
  const [index, setIndex] = useState(0);
  const move = (i: number): void => {
    state.current.index = i;
    setIndex(i);
  };
  useInput((input, key) => {
    if (state.current.done) return;
    if (isCancel(input, key)) {
      state.current.done = true;
      onDone(undefined);
    } else if (key.upArrow || input === 'k') move((state.current.index + items.length - 1) % items.length);
    else if (key.downArrow || input === 'j') move((state.current.index + 1) % items.length);
    else if (key.return) {
      state.current.done = true;
      onDone(state.current.index);
    }
  });
  return (
    <Box flexDirection="column">
      <Text bold>{message}</Text>
      {items.map((item, i) => (
        <Box key={i} flexDirection="column">
          <Text color={i === index ? 'cyan' : undefined}>
            {i === index ? '❯ ' : '  '}
            {item.label}
          </Text>
          {item.hint && i === index ? <Text dimColor>{indentWrap(item.hint, width, '    ').join('\n')}</Text> : null}
        </Box>
      ))}
      <Text dimColor>↑/↓ to move, Enter to choose, Esc to cancel</Text>
    </Box>
  );
}

/**
 * A yes/no question with an optional body (the plan): `y`/`yes` confirms, `n`/`no`, Enter alone
 * (the default, No), Esc or Ctrl+C refuse. A pasted answer with its line break (`y\n`) counts.
 */
export function Confirm({ message, body, onDone }: { message: string; body?: string; onDone: (yes: boolean) => void }) {
  const done = useRef(false);
  const answer = (yes: boolean): void => {
    done.current = true;
    onDone(yes);
  };
  useInput((input, key) => {
    if (done.current) return;
    if (isCancel(input, key)) return answer(false);
    const { text, submitted } = readChunk(input, key);
    const word = text.trim().toLowerCase();
    if (word === 'y' || word === 'yes') answer(true);
    else if (word === 'n' || word === 'no' || (submitted && word === '')) answer(false);
  });
  return (
    <Box flexDirection="column">
      {body ? <Text>{body}</Text> : null}
      <Text bold>
        {message} <Text dimColor>(y/N, Esc to cancel)</Text>
      </Text>
    </Box>
  );
}

/** How many wrong names {@link TypeName} takes before it cancels. */
export const NAME_ATTEMPTS = 3;

/**
 * Type `name` and press Enter to confirm a destructive action (optionally below `body`, the
 * plan). Surrounding spaces and a pasted line break are forgiven; a wrong name asks again, saying
 * what was typed, up to {@link NAME_ATTEMPTS} times, then answers false; an empty Enter is not a
 * try. Esc or Ctrl+C: false at once.
 */
export function TypeName({ message, name, body, onDone }: { message: string; name: string; body?: string; onDone: (ok: boolean) => void }) {
  // The typed text, the wrong tries and the answer live in a ref as well as in state: keys that
  // arrive faster than React renders (fast typing, a paste split in chunks) each see the text the
  // previous key left, not the text of the last render (which lost every other key).
  const state = useRef({ value: '', wrong: [] as string[], done: false });
  const [value, setValue] = useState('');
  const [wrong, setWrong] = useState<string[]>([]);
  const [done, setDone] = useState(false);
  const setTyped = (v: string): void => {
    state.current.value = v;
    setValue(v);
  };
  const answer = (ok: boolean): void => {
    state.current.done = true;
    setDone(true);
    onDone(ok);
  };
  useInput((input, key) => {
    if (state.current.done) return;
    if (isCancel(input, key)) return answer(false);
    if (key.backspace || key.delete) return setTyped(state.current.value.slice(0, -1));
    if (key.ctrl || (key.meta && !key.return)) return;
    const { text, submitted } = readChunk(input, key);
    const typed = state.current.value + printable(text);
    if (!submitted) return setTyped(typed);
    const candidate = typed.trim();
    if (candidate === '') return setTyped('');
    if (candidate === name) return answer(true);
    const tries = [...state.current.wrong, candidate];
    if (tries.length >= NAME_ATTEMPTS) return answer(false);
    state.current.wrong = tries;
    setWrong(tries);
    setTyped('');
  });
  const left = NAME_ATTEMPTS - wrong.length;
  return (
    <Box flexDirection="column">
      {body ? <Text>{body}</Text> : null}
      <Text bold>{message}</Text>
      {wrong.length ? <Text color="yellow">{`"${wrong[wrong.length - 1]}" is not ${name}: type it again (${left} ${left === 1 ? 'try' : 'tries'} left)`}</Text> : null}
      <Text>
        <Text color="red">{'> '}</Text>
        {value}
        {done ? '' : '█'}
      </Text>
      <Text dimColor>Enter to confirm, Esc to cancel</Text>
    </Box>
  );
}
