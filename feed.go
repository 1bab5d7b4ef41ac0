package tokend

import (
	"context"
	"time"
)

// Change is one entry of the change feed: what a committed change made stale.
type Change struct {
	Seq int64
	At  time.Time
	Invalidation
}

// feedBatch is how many feed entries one read asks for.
const feedBatch = 500

// trusted reports whether this node's caches may answer at now. Once Run has started, the
// caches answer only until FeedStaleAfter past the start of the last successful read of the
// feed; a Service never Run (an operator command, a test) sees no other node and trusts them.
func (s *Service) trusted(now time.Time) bool {
	return s.trustedAt(now.UnixNano())
}

// trustedAt is trusted at now in Unix nanoseconds.
func (s *Service) trustedAt(now int64) bool {
	return now < s.trustUntil.Load()
}

// watchFeed reads the change feed past the last entry it applied: when the store wakes it,
// after each (re)connection of the wake-ups, and every FeedPollInterval, so a lost wake-up
// costs at most one interval. Each successful read that reaches the newest entry extends
// the caches' trust; when reads fail for FeedStaleAfter, the caches stop answering and every
// verification reads the store (see trusted).
func (s *Service) watchFeed(ctx context.Context) {
	// From now on only reads of the feed earn trust, also after Run returns.
	s.trustUntil.Store(0)
	s.feedSync.running.Store(true)
	defer s.feedSync.running.Store(false)
	wake := make(chan struct{}, 1)
	listenDone := make(chan struct{})
	if s.opts.FeedPollOnly {
		close(listenDone)
	} else {
		go func() {
			defer close(listenDone)
			s.listenFeed(ctx, wake)
		}()
	}
	defer func() { <-listenDone }()
	tick := time.NewTicker(s.opts.FeedPollInterval)
	defer tick.Stop()
	s.refreshTags(ctx)
	r := feedReader{cursor: -1}
	for {
		last := time.Now()
		s.readFeed(ctx, &r)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
			s.refreshTags(ctx) // until the key is read and untagged tokens are sealed
		case <-s.feedSync.want: // a request waits for a read (neverIssued)
			// Reads asked for by requests are at least syncGap apart, so that every request
			// waiting meanwhile shares the next: a flood of unknown tokens costs the store at
			// most one small read per syncGap, whatever its rate.
			if d := syncGap - time.Since(last); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
		}
	}
}

// listenFeed keeps a subscription to the store's wake-ups, reconnecting with backoff.
func (s *Service) listenFeed(ctx context.Context, wake chan<- struct{}) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.store.Subscribe(ctx, func(seq int64) {
			backoff = 100 * time.Millisecond
			if seq > s.feedHeard.Load() { // only this goroutine stores it
				s.feedHeard.Store(seq)
			}
			select {
			case wake <- struct{}{}:
			default: // a read is already due
			}
		})
		if err == nil || ctx.Err() != nil {
			return
		}
		s.log.Warn("change feed wake-ups broken; polling every interval until they are back",
			"err", err, "interval", s.opts.FeedPollInterval)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// feedReader is the reader's position; only watchFeed's goroutine touches it.
type feedReader struct {
	cursor  int64        // the last entry applied; -1 before the first read
	failing bool         // the last read failed (logged once per outage)
	filter  *tokenFilter // started by the first read, to be filled from the store
}

// readFeed applies every entry past r.cursor and, when it reached the newest, extends trust.
func (s *Service) readFeed(ctx context.Context, r *feedReader) {
	round := s.feedSync.begin()
	start := s.now()
	// A read that hangs (a link that stopped moving bytes) must fail in time for the
	// liveness rule to mean something.
	rctx, cancel := context.WithTimeout(ctx, s.opts.FeedStaleAfter)
	defer cancel()
	err := s.catchUp(rctx, r)
	defer func() { round.end(err == nil) }()
	if next := r.filter; next != nil {
		r.filter = nil
		go func() {
			if err := s.known.fill(ctx, s.store, next); err != nil && ctx.Err() == nil {
				s.log.Warn("read the filter of issued tokens", "err", err)
			}
		}()
	}
	if err != nil {
		if ctx.Err() == nil && !r.failing {
			s.log.Warn("change feed unreadable; caches stop answering when it stays so",
				"err", err, "after", s.opts.FeedStaleAfter)
		}
		r.failing = true
		return
	}
	if r.failing {
		s.log.Info("change feed readable again", "seq", r.cursor)
		r.failing = false
	}
	// A lapse of trust is worth a line even when no read failed: reads that come late (a slow
	// or starved store) make every request read the store meanwhile.
	if end, was := s.now(), s.trustUntil.Load(); was != 0 && end.UnixNano() > was {
		s.log.Warn("caches did not answer: no read of the change feed within --feed-stale-after",
			"for", end.Sub(time.Unix(0, was)), "this_read_took", end.Sub(start))
	}
	s.feedSeq.Store(r.cursor)
	s.feedReadAt.Store(start.UnixNano())
	s.trustUntil.Store(start.Add(s.opts.FeedStaleAfter).UnixNano())
}

func (s *Service) catchUp(ctx context.Context, r *feedReader) error {
	if r.cursor < 0 {
		head, err := s.store.FeedHead(ctx)
		if err != nil {
			return err
		}
		// Whatever was cached before this node knew where the feed stood is suspect.
		s.drop(Invalidation{All: true})
		r.cursor = head
		// The filter of issued tokens: what the store holds from here on, and what the feed
		// says after head (see knownTokens.start); readFeed fills it.
		r.filter = s.known.start(filterMinKeys)
	}
	for {
		cs, err := s.store.Changes(ctx, r.cursor, feedBatch)
		if err != nil {
			return err
		}
		if err := s.learnTokens(ctx, cs); err != nil {
			return err
		}
		for _, c := range cs {
			if c.Seq != r.cursor+1 {
				// Numbers are consecutive: a hole means entries were pruned before this node
				// read them (it was away longer than FeedRetention). Start over.
				s.drop(Invalidation{All: true})
			}
			s.drop(c.Invalidation)
			r.cursor = c.Seq
		}
		if len(cs) < feedBatch {
			return nil
		}
	}
}

// pruneFeed deletes feed entries older than FeedRetention.
func (s *Service) pruneFeed(ctx context.Context) {
	if _, err := s.store.PruneChanges(ctx, s.now().Add(-s.opts.FeedRetention)); err != nil && ctx.Err() == nil {
		s.log.Warn("prune change feed", "err", err)
	}
}
