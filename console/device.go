package console

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"tokend"
	"tokend/edge"
)

// The device page is where `tokend login` ends up: the signed-in user enters (or follows a
// link with) the code the CLI shows, sees which CLI on which machine asks, picks the account
// and approves or denies.

// Wrong codes per user: 5, then one more every 30 seconds — a code has about 34 bits and lives
// 10 minutes, so guessing one is hopeless at that pace.
const deviceBurst, deviceRefill = 5, 30 * time.Second

type deviceData struct {
	UserCode string
	Device   *tokend.DeviceAuthorization
	Error    string
	Done     string // "approved" or "denied"
	Account  *tokend.Account
}

func (c *Console) devicePage(w http.ResponseWriter, r *http.Request, in *signedIn) {
	code := r.URL.Query().Get("user_code")
	if code == "" {
		c.show(w, r, in, http.StatusOK, "device.html", "Sign in a device", "", deviceData{})
		return
	}
	c.lookUpDevice(w, r, in, code)
}

// lookUpDevice shows the confirmation for a user code, or the form again with the reason.
func (c *Console) lookUpDevice(w http.ResponseWriter, r *http.Request, in *signedIn, code string) {
	key := "user:" + strconv.FormatInt(int64(in.user.ID), 10)
	now := c.now()
	if wait := c.deviceFailures.Wait(key, now); wait > 0 {
		secs := int64(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		c.show(w, r, in, http.StatusTooManyRequests, "device.html", "Sign in a device", "", deviceData{UserCode: code,
			Error: "Too many wrong codes. Wait " + plural(int(secs), "second") + " and try again."})
		return
	}
	d, err := c.svc.PendingDevice(r.Context(), code)
	if err != nil {
		if tokend.ErrorCode(err) != tokend.ENotFound {
			c.renderError(w, r, in, err)
			return
		}
		c.deviceFailures.Fail(key, now)
		c.show(w, r, in, http.StatusNotFound, "device.html", "Sign in a device", "", deviceData{UserCode: code, Error: tokend.ErrorMessage(err)})
		return
	}
	c.show(w, r, in, http.StatusOK, "device.html", "Sign in a device", "", deviceData{UserCode: code, Device: d})
}

// enterDeviceCode is the form's post: look the code up.
func (c *Console) enterDeviceCode(w http.ResponseWriter, r *http.Request, in *signedIn) {
	c.lookUpDevice(w, r, in, r.PostForm.Get("user_code"))
}

// decideDevice approves the device for the chosen account, or denies it.
func (c *Console) decideDevice(w http.ResponseWriter, r *http.Request, in *signedIn) {
	code := r.PostForm.Get("user_code")
	approve := r.PostForm.Get("decision") == "approve"
	id, _ := strconv.ParseInt(r.PostForm.Get("account_id"), 10, 64)
	accountID := tokend.AccountID(id)
	var chosen *tokend.Account
	for _, a := range in.accounts {
		if a.ID == accountID {
			chosen = a
		}
	}
	if approve && chosen == nil {
		c.show(w, r, in, http.StatusBadRequest, "device.html", "Sign in a device", "", deviceData{UserCode: code,
			Error: "Choose one of your accounts."})
		return
	}
	d, err := c.svc.DecideDevice(r.Context(), in.user.ID, accountID, code, approve)
	if err != nil {
		switch tokend.ErrorCode(err) {
		case tokend.ENotFound, tokend.EForbidden:
			c.show(w, r, in, edge.StatusOf(err), "device.html", "Sign in a device", "",
				deviceData{UserCode: code, Error: tokend.ErrorMessage(err)})
		default:
			c.renderError(w, r, in, err)
		}
		return
	}
	done := "denied"
	if approve {
		done = "approved"
	}
	c.show(w, r, in, http.StatusOK, "device.html", "Sign in a device", "", deviceData{Device: d, Done: done, Account: chosen})
}
