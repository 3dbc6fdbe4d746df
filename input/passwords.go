package input

import (
	_ "embed"
	"errors"
	"strings"
	"sync"
)

// ErrPasswordCommon refuses a password from the list of common ones.
var ErrPasswordCommon = errors.New("This password is too common: it is among the first an attacker tries. Choose another.")

// commonPasswords is every password of 8 to 72 bytes in the zxcvbn password list
// (49,233 passwords by frequency, from leaked password sets), lower-cased: 17,950 lines.
// Shorter ones are refused by length already. Source: npm package
// @zxcvbn-ts/language-common 4.1.3, src/passwords.json; MIT license, copyright Dan
// Wheeler, Dropbox, Inc. and @zxcvbn-ts (common-passwords.LICENSE beside this file).
//
//go:embed common-passwords.txt
var commonPasswords string

var commonSet = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 18000)
	for _, p := range strings.Split(strings.TrimSpace(commonPasswords), "\n") {
		set[p] = struct{}{}
	}
	return set
})

// NewPassword checks a password being set (signup, a change, the command line): the
// length rules of Password, and not one of the common passwords, compared without case.
func NewPassword(s string) (string, error) {
	s, err := Password(s)
	if err != nil {
		return "", err
	}
	if _, ok := commonSet()[strings.ToLower(s)]; ok {
		return "", ErrPasswordCommon
	}
	return s, nil
}
