// admin_window.hh — `jim-qt --admin`: the server's accounts, live statistics and runtime
// settings over the admin actions of doc/protocol.md §8.
#pragma once

#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableView>
#include <QTimer>
#include <QVector>

#include "session.hh"

namespace jimqt {

/** A small line chart of the last samples (messages per second). */
class RateChart : public QWidget {
    Q_OBJECT
  public:
    explicit RateChart(QWidget *parent = nullptr);
    /** Adds a sample; the oldest goes when there are more than fit (five minutes). */
    void add(double value);
    /** The samples, oldest first. */
    const QVector<double> &samples() const { return samples_; }

  protected:
    void paintEvent(QPaintEvent *event) override;

  private:
    QVector<double> samples_;
};

/** The administration window over a logged-in session (not owned). */
class AdminWindow : public QMainWindow {
    Q_OBJECT
  public:
    explicit AdminWindow(Session *session, QWidget *parent = nullptr);

    /** Asks for every account (admin_users). */
    void refreshAccounts();
    /** Asks for the statistics (admin_stats); the timer does it every second. */
    void refreshStats();
    /** admin_kick / admin_ban of an account, with a reason (may be empty). */
    void kick(const QString &user, const QString &reason);
    void ban(const QString &user, const QString &reason);
    /** admin_set of a runtime setting. */
    void setSetting(const QString &setting, const QString &value);
    /** The accounts' model (one row per account) and the last answer's notice. */
    QStandardItemModel *accounts() const { return model_; }
    QString notice() const { return notice_->text(); }
    RateChart *chart() const { return chart_; }

  private:
    void action(jim_action a, const QString &user, const QString &reason);
    void refused(const QString &what, int status, const jim_msg *response);
    QString selected() const;

    Session *session_;
    QStandardItemModel *model_;
    QSortFilterProxyModel *proxy_;
    QTableView *table_;
    QLineEdit *filter_;
    QLabel *stats_;
    QLabel *notice_;
    RateChart *chart_;
    QLineEdit *setting_;
    QLineEdit *value_;
    QTimer tick_;
};

} // namespace jimqt
