// A labelled button that puts a text on the clipboard and says so for a moment. The text is a prop
// (data): it is never parsed as markup.
import { copyText } from "log_export";

const COPIED_FOR_MS = 1500;

export default {
  template: `
    <q-btn flat dense no-caps class="bl-copy-button" :icon="icon" :label="shownLabel"
           :aria-label="title" @click="copy">
      <q-tooltip>{{ outcome === 'failed' ? 'The browser refused to copy' : title }}</q-tooltip>
    </q-btn>`,
  props: { text: String, label: String, title: String },
  data() {
    return { outcome: null };  // "copied" or "failed", for a moment
  },
  computed: {
    icon() {
      return { copied: "done", failed: "error_outline" }[this.outcome] ?? "content_copy";
    },
    shownLabel() {
      return { copied: "Copied", failed: "Not copied" }[this.outcome] ?? this.label;
    },
  },
  methods: {
    async copy() {
      try {
        await copyText(this.text);
        this.outcome = "copied";
      } catch {
        this.outcome = "failed";
      }
      clearTimeout(this.resetTimer);
      this.resetTimer = setTimeout(() => (this.outcome = null), COPIED_FOR_MS);
    },
  },
  unmounted() {
    clearTimeout(this.resetTimer);
  },
};
