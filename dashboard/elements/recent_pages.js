// The landing page's list of the streams and merged views this browser opened lately, newest first:
// each a link named by its streams' labels (or the start of their keys), marked read-only when it is,
// with a button that takes it off the list. All from localStorage, all set as text.
import { colourClass, forgetPage, labelOf, onLabelsChanged, recentPages } from "stream_labels";

export default {
  template: `
    <section v-if="pages.length" class="bl-recent" aria-labelledby="bl-recent-heading">
      <h2 id="bl-recent-heading" class="bl-recent-heading">Recent streams</h2>
      <p class="bl-recent-note">Opened in this browser; names are this browser's own.</p>
      <ul class="bl-recent-list">
        <li v-for="page in pages" :key="page.path" class="bl-recent-item">
          <a :href="page.path" class="bl-recent-link">
            <span v-for="(stream, index) in page.streams" :key="stream.label_key"
                  :class="['bl-recent-stream', page.streams.length > 1 ? colourClass(index) : '']">
              <span class="bl-recent-name">{{ nameOf(stream) }}</span>
              <span v-if="stream.read_only" class="bl-stream-ro">read-only</span>
            </span>
          </a>
          <span class="bl-recent-when" :title="new Date(page.at).toISOString()">{{ ago(page.at) }}</span>
          <button type="button" class="bl-recent-forget" title="Take off this list (the stream stays)"
                  aria-label="Take off this list" @click="forget(page.path)">×</button>
        </li>
      </ul>
    </section>`,
  data() {
    return { pages: [], now: Date.now() };
  },
  mounted() {
    this.load();
    this.stop = onLabelsChanged(() => this.load());
  },
  unmounted() {
    this.stop();
  },
  methods: {
    colourClass,
    load() {
      this.now = Date.now();
      this.pages = recentPages();
    },
    nameOf(stream) {
      return labelOf(stream.label_key) || stream.short;
    },
    ago(at) {
      const minutes = Math.round((this.now - Number(at)) / 60000);
      if (!(minutes >= 1)) return "just now";
      if (minutes < 60) return `${minutes} min ago`;
      const hours = Math.round(minutes / 60);
      return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`;
    },
    forget(path) {
      forgetPage(path);
    },
  },
};
