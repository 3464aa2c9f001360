// A labelled button that puts a text on the clipboard and says so for a moment. The text is a prop
// (data): it is never parsed as markup.
import { copyText } from "log_export";

const COPIED_FOR_MS = 1500;

export default {
  template: `
    <q-btn flat dense no-caps class="bl-copy-button" :icon="copied ? 'done' : 'content_copy'"
           :label="copied ? 'Copied' : label" :aria-label="title" @click="copy">
      <q-tooltip>{{ title }}</q-tooltip>
    </q-btn>`,
  props: { text: String, label: String, title: String },
  data() {
    return { copied: false };
  },
  methods: {
    async copy() {
      await copyText(this.text);
      this.copied = true;
      clearTimeout(this.resetTimer);
      this.resetTimer = setTimeout(() => (this.copied = false), COPIED_FOR_MS);
    },
  },
  unmounted() {
    clearTimeout(this.resetTimer);
  },
};
