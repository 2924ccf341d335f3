// Package events holds the user aggregate's events, one package per
// version of their payloads: v1 as first released, v2 as written today.
// These packages know nothing of Chronicle; package userevents maps them.
package events
